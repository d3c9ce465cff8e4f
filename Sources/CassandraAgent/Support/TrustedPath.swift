#if canImport(Glibc)
import Glibc
#endif

/// Whether a file the agent obeys as root (the desired state: it writes
/// /etc/cassandra and will run patch commands from it) can be changed by anyone
/// else. The rule is sshd's StrictModes for authorized_keys: the file and every
/// directory above it must be owned by root or the agent's own user and writable
/// by no one else, except that the admin group may be given group write, and a
/// world-writable directory with the sticky bit (/tmp) does not let others
/// replace what they do not own. Both the path as given and where its symlinks
/// lead are checked: a symlink is only as safe as the directory holding it.
public enum TrustedPath {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file or directory at fault.
        public var path: String
        public var message: String

        public var description: String { message }
    }

    /// Every problem, nearest the file first; empty when only root and the admin group can write.
    /// A path that does not exist has no problem here (reading it reports that).
    public static func problems(_ path: String, adminGroup: String?) -> [Problem] {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        var chain = [(absolute, true)] + parents(of: absolute).map { ($0, false) }
        if let resolved = realPath(absolute), resolved != absolute {
            chain += [(resolved, true)] + parents(of: resolved).map { ($0, false) }
        }
        var seen: Set<String> = []
        var found: [(path: String, stat: stat, isTheFile: Bool)] = []
        for (element, isTheFile) in chain where seen.insert(element).inserted {
            var st = stat()
            guard stat(element, &st) == 0 else { continue }
            found.append((element, st, isTheFile))
        }
        // The group is looked up only when something is group-writable by a group other than
        // root's: the lookup goes through NSS (libnss_systemd loaded and asked), a third of a
        // millisecond of every `validate` of a file kept the usual way.
        let groupWritable = found.contains { $0.stat.st_mode & 0o020 != 0 && $0.stat.st_gid != 0 }
        let adminGID = groupWritable ? adminGroup.flatMap(FileOwnership.groupID) : nil
        return found.flatMap { check($0.path, $0.stat, isTheFile: $0.isTheFile, adminGID: adminGID, adminGroup: adminGroup) }
    }

    static func check(_ path: String, _ st: stat, isTheFile: Bool, adminGID: gid_t?, adminGroup: String?) -> [Problem] {
        let mode = st.st_mode & 0o7777
        let modeText = "mode " + octal(mode)
        let what = isTheFile ? "the desired-state file" : "a directory above the desired-state file"
        let allowed = "only root\(adminGroup.map { " and the admin group '\($0)'" } ?? "") may write the desired state and every directory above it, since the agent applies it as root"
        var problems: [Problem] = []
        if st.st_uid != 0 && st.st_uid != geteuid() {
            problems.append(Problem(path: path, message: "\(path) (\(what)) is owned by \(userName(st.st_uid)), who can change it; \(allowed) (chown root \(path))"))
        }
        if mode & 0o020 != 0 && st.st_gid != 0 && st.st_gid != adminGID {
            problems.append(Problem(path: path, message: "\(path) (\(what)) is writable by the group \(groupName(st.st_gid)) (\(modeText)); \(allowed) (chmod g-w \(path))"))
        }
        let sticky = (st.st_mode & S_IFMT) == S_IFDIR && mode & mode_t(S_ISVTX) != 0
        if mode & 0o002 != 0 && !sticky {
            problems.append(Problem(path: path, message: "\(path) (\(what)) is writable by every user (\(modeText)); \(allowed) (chmod o-w \(path))"))
        }
        return problems
    }

    static func parents(of path: String) -> [String] {
        var result: [String] = []
        var current = path
        while current != "/" {
            current = FileIO.directoryName(current)
            result.append(current)
        }
        return result
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return getcwd(&buffer, buffer.count) != nil ? String(cString: buffer) : "."
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return "uid \(uid)" }
        return "'\(String(cString: entry.pw_name))' (uid \(uid))"
    }

    static func groupName(_ gid: gid_t) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return "gid \(gid)" }
        return "'\(String(cString: entry.gr_name))' (gid \(gid))"
    }
}
