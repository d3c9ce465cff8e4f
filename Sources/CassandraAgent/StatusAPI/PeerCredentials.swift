#if canImport(Glibc)
import Glibc
#endif

/// Who is at the other end of the socket, from the kernel (SO_PEERCRED): never
/// from anything the client says. Layout of `struct ucred`.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// Root, or a member of the admin group (as primary group, or as a
    /// supplementary group of the peer's user in the group database).
    public func isAdmin(group: String) -> Bool {
        if uid == 0 { return true }
        guard let adminGID = FileOwnership.groupID(group) else { return false }
        if gid == adminGID { return true }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else { return false }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, gid, &groups, &count)
        }
        return groups.prefix(Int(max(0, count))).contains(adminGID)
    }
}
