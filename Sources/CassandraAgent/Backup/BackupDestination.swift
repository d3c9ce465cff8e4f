/// Where a node's backups are stored: a directory (`file:///mnt/backups`, an
/// NFS mount as a rule) or an S3-compatible bucket (`s3://BUCKET/PREFIX`).
public enum BackupDestination: Sendable, Equatable, CustomStringConvertible {
    case file(path: String)
    case s3(bucket: String, prefix: String)

    /// Parses the desired state's `backup.destination`; the error is a sentence.
    public static func parse(_ text: String) -> Result<BackupDestination, BackupError> {
        if text.hasPrefix("file:///") {
            var path = String(text.dropFirst("file://".count))
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            if path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
                return .failure(BackupError("backup.destination must not contain '.' or '..' segments, found '\(text)'"))
            }
            return .success(.file(path: path))
        }
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts.first ?? "")
            guard bucket.count >= 3, bucket.count <= 63,
                  bucket.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." })
            else {
                return .failure(BackupError("backup.destination: '\(bucket)' is not an S3 bucket name (3 to 63 lower-case letters, digits, '-' and '.')"))
            }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            return .success(.s3(bucket: bucket, prefix: prefix))
        }
        if let scheme = text.firstRange(of: "://").map({ String(text[..<$0.lowerBound]) }) {
            return .failure(BackupError("backup.destination: the '\(scheme)' scheme is not supported; use file:///PATH (a local or mounted directory) or s3://BUCKET/PREFIX"))
        }
        return .failure(BackupError("backup.destination must be a URL such as file:///mnt/cassandra-backups or s3://BUCKET/PREFIX, found '\(text)'"))
    }

    public var description: String {
        switch self {
        case .file(let path): "file://\(path)"
        case .s3(let bucket, let prefix): "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)")
        }
    }
}

/// A backup that could not be made, verified or restored: a sentence an operator can act on.
public struct BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
