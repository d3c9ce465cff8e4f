/// `backup.s3.endpoint`: `https://HOST[:PORT]` (real S3 and production stores) or
/// `http://HOST[:PORT]` (test servers, an on-premise store on a trusted network).
/// Requests are path-style (`/BUCKET/KEY`), so the URL names a host and nothing
/// else. Checked by the desired-state reader and by the store with the same rules.
public struct S3Endpoint: Sendable, Equatable {
    public var tls: Bool
    /// Without brackets for an IPv6 address.
    public var host: String
    public var port: Int

    public static func parse(_ text: String) -> Result<S3Endpoint, BackupError> {
        let tls: Bool
        var rest: Substring
        if text.hasPrefix("https://") {
            (tls, rest) = (true, text.dropFirst("https://".count))
        } else if text.hasPrefix("http://") {
            (tls, rest) = (false, text.dropFirst("http://".count))
        } else {
            return .failure(BackupError("backup.s3.endpoint must be an https:// URL (or http:// for a store on a trusted network), found '\(text)'"))
        }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else {
                return .failure(BackupError("backup.s3.endpoint names a host and port only (requests are path-style, /BUCKET/KEY), found '\(text)'"))
            }
            rest = rest[..<slash]
        }
        guard !rest.contains("@"), !rest.contains("?"), !rest.contains("#") else {
            return .failure(BackupError("backup.s3.endpoint names a host and port only (credentials go in backup.s3.credentialsFile), found a URL with more in it"))
        }
        var host = rest, portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(BackupError("backup.s3.endpoint: unclosed '[' in '\(text)'")) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(BackupError("backup.s3.endpoint: unexpected '\(after)' after the address in '\(text)'")) }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        var port = tls ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                return .failure(BackupError("backup.s3.endpoint: '\(portText)' is not a port (1 to 65535) in '\(text)'"))
            }
            port = value
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == ":") }) else {
            return .failure(BackupError("backup.s3.endpoint: '\(host)' is not a host name or address in '\(text)'"))
        }
        return .success(S3Endpoint(tls: tls, host: String(host), port: port))
    }

    /// The Host header (signed): the port only when it is not the scheme's own.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (tls ? 443 : 80) ? name : "\(name):\(port)"
    }
}
