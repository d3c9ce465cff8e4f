#if canImport(Glibc)
import Glibc
#endif

/// Who owns an installed file and its mode. cassandra.yaml can hold store
/// passwords, so the default is root:cassandra 0640: Cassandra reads, nobody else.
public struct FileOwnership: Sendable, Equatable {
    public var owner: String
    public var group: String
    public var mode: UInt32

    public init(owner: String = "root", group: String = "cassandra", mode: UInt32 = 0o640) {
        self.owner = owner
        self.group = group
        self.mode = mode
    }

    public static let `default` = FileOwnership()

    /// The numeric ids, or an error naming what does not exist on this host.
    func resolve() throws(InstallError) -> (uid: uid_t, gid: gid_t) {
        guard let uid = Self.userID(owner) else {
            throw InstallError("user '\(owner)' does not exist on this host; create it or set files.owner in the agent's config")
        }
        guard let gid = Self.groupID(group) else {
            throw InstallError("group '\(group)' does not exist on this host; create it (the Cassandra package does) or set files.group in the agent's config")
        }
        return (uid, gid)
    }

    static func userID(_ name: String) -> uid_t? {
        if let number = uid_t(name) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    static func groupID(_ name: String) -> gid_t? {
        if let number = gid_t(name) { return number }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    public var modeText: String {
        let octal = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }
}

/// Why an install (or a rollback) failed. Not a problem of the desired state: the
/// file was valid, the node could not take it (a full disk, a missing group).
public struct InstallError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The errno of the system call that failed, when one did.
    public var code: Int32?

    public init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }

    /// `message` prefixed, keeping the errno; a full disk says what to free.
    init(_ prefix: String, _ error: SystemError) {
        var message = prefix + error.description
        if error.code == ENOSPC || error.code == EDQUOT {
            message += "; the file system holding \(FileIO.directoryName(error.path)) is full: free space there, and the agent installs at the next change or resync"
        }
        self.init(message, code: error.code)
    }

    /// ENOSPC or EDQUOT: the disk (or the quota) is full.
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }

    /// A stable reason code for the journal and status checks.
    public var reason: String { isDiskFull ? "install.disk_full" : "install.failed" }

    public var description: String { message }
}
