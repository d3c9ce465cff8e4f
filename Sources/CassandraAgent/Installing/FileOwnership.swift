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

public struct InstallError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
