/// AWS Signature Version 4 for S3, with OpenSSL's HMAC-SHA256: the canonical
/// request (method, URI-encoded path, sorted query, lower-cased sorted headers,
/// the signed header list, the payload's SHA-256), the string to sign over the
/// credential scope DATE/REGION/s3/aws4_request, and the signing-key chain.
public struct S3Signer: Sendable {
    public var accessKeyID: String
    /// Never printed, logged or put in an error.
    var secretAccessKey: String
    public var sessionToken: String?
    public var region: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
    }

    public static let emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// RFC 3986 percent-encoding of everything but the unreserved characters (and '/' in paths).
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || c == "-" || c == "_" || c == "." || c == "~" || (keepSlash && c == "/") {
                out.append(c)
            } else {
                out += "%" + String(byte >> 4, radix: 16).uppercased() + String(byte & 0x0f, radix: 16).uppercased()
            }
        }
        return out
    }

    /// `yyyyMMdd'T'HHmmss'Z'`.
    public static func amzDate(_ seconds: Int64) -> String {
        Timestamp.iso8601(seconds).filter { $0 != "-" && $0 != ":" }
    }

    /// The headers to add to a request (x-amz-date, x-amz-content-sha256, the token, Authorization).
    /// `headers` are the other headers to sign (host is always signed).
    public func sign(method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadSHA256: String, at seconds: Int64) -> [(String, String)] {
        let date = Self.amzDate(seconds)
        let day = String(date.prefix(8))
        var signed = headers.map { ($0.0.lowercased(), $0.1.trimmingSpaces) }
        signed.append(("x-amz-content-sha256", payloadSHA256))
        signed.append(("x-amz-date", date))
        if let sessionToken { signed.append(("x-amz-security-token", sessionToken)) }
        signed.sort { $0.0 < $1.0 }
        let canonicalQuery = query.map { (Self.encode($0.0), Self.encode($0.1)) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalHeaders = signed.map { "\($0.0):\($0.1)\n" }.joined()
        let signedNames = signed.map(\.0).joined(separator: ";")
        let canonical = [method, Self.encode(path, keepSlash: true), canonicalQuery, canonicalHeaders, signedNames, payloadSHA256].joined(separator: "\n")
        let scope = "\(day)/\(region)/s3/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(date)\n\(scope)\n\(SHA256.hex(Array(canonical.utf8)))"
        var key = HMACSHA256.authenticate(key: Array("AWS4\(secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, "s3", "aws4_request"] { key = HMACSHA256.authenticate(key: key, Array(part.utf8)) }
        let signature = Hex.encode(HMACSHA256.authenticate(key: key, Array(toSign.utf8)))
        var added = [("x-amz-content-sha256", payloadSHA256), ("x-amz-date", date)]
        if let sessionToken { added.append(("x-amz-security-token", sessionToken)) }
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"))
        return added
    }
}

/// S3 credentials: an AWS shared-credentials file (`[default]` profile), or
/// `credential:NAME`, a systemd credential in $CREDENTIALS_DIRECTORY.
public enum S3Credentials {
    public static func load(_ source: String, environment: [String: String]) throws(BackupError) -> (id: String, secret: String, token: String?) {
        var path = source
        if source.hasPrefix("credential:") {
            let name = String(source.dropFirst("credential:".count))
            guard let directory = environment["CREDENTIALS_DIRECTORY"] else {
                throw BackupError("backup.s3.credentialsFile is \(source) but $CREDENTIALS_DIRECTORY is not set: add LoadCredential=\(name):/PATH to the unit (systemctl edit cassandra-agent)")
            }
            path = "\(directory)/\(name)"
        }
        let text: String
        do {
            text = try FileIO.readText(path)
        } catch {
            throw BackupError("cannot read the S3 credentials: \(error)")
        }
        var section: String?
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingSpaces
                continue
            }
            guard section == "default", let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingSpaces.lowercased()] = line[line.index(after: equals)...].trimmingSpaces
        }
        guard let id = values["aws_access_key_id"], !id.isEmpty, let secret = values["aws_secret_access_key"], !secret.isEmpty else {
            throw BackupError("\(path) has no [default] profile with aws_access_key_id and aws_secret_access_key")
        }
        return (id, secret, values["aws_session_token"])
    }
}
