import Foundation
import Testing
@testable import CassandraAgent

/// Issue 8, item 4: a desired state others can write is refused (a warning in `validate`).
@Suite struct DesiredStatePermissionTests {
    /// dir/a/b/desired-state.yaml, all root-owned and tight; the test then opens one up.
    func chain() -> (TemporaryDirectory, String) {
        let dir = TemporaryDirectory()
        let file = dir.write("a/b/desired-state.yaml", desiredState())
        chmod(dir.path + "/a", 0o755)
        chmod(dir.path + "/a/b", 0o755)
        chmod(file, 0o644)
        return (dir, file)
    }

    @Test func aTightChainHasNoProblem() {
        let (dir, file) = chain()
        #expect(FileManager.default.fileExists(atPath: file), "in \(dir.path)")
        #expect(TrustedPath.problems(file, adminGroup: "cassandra-agent") == [])
    }

    @Test func aWorldWritableFileIsAProblem() {
        let (dir, file) = chain()
        chmod(file, 0o666)
        #expect(FileManager.default.fileExists(atPath: file), "in \(dir.path)")
        #expect(TrustedPath.problems(file, adminGroup: nil).map(\.message) == [
            "\(file) (the desired-state file) is writable by every user (mode 0666); only root may write the desired state and every directory above it, since the agent applies it as root (chmod o-w \(file))",
        ])
    }

    @Test func aWorldWritableDirectoryAboveIsAProblemUnlessSticky() {
        let (dir, file) = chain()
        chmod(dir.path + "/a", 0o777)
        #expect(TrustedPath.problems(file, adminGroup: nil).map(\.path) == [dir.path + "/a"])
        chmod(dir.path + "/a", 0o1777)
        #expect(TrustedPath.problems(file, adminGroup: nil) == [])
    }

    @Test func groupWriteIsAllowedToTheAdminGroupOnly() {
        let (dir, file) = chain()
        chown(dir.path + "/a/b", 0, 4242)
        chmod(dir.path + "/a/b", 0o775)
        let problems = TrustedPath.problems(file, adminGroup: "cassandra-agent")
        #expect(problems.map(\.path) == [dir.path + "/a/b"])
        #expect(problems.first?.message.contains("is writable by the group gid 4242 (mode 0775); only root and the admin group 'cassandra-agent' may write") == true)
        #expect(TrustedPath.problems(file, adminGroup: "4242") == [])
    }

    @Test func aSymlinkIsCheckedWhereItLeads() throws {
        let (dir, file) = chain()
        chmod(dir.path + "/a/b", 0o777)
        let link = dir.path + "/link.yaml"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        #expect(TrustedPath.problems(link, adminGroup: nil).map(\.path) == [dir.path + "/a/b"])
    }

    @Test func validateWarnsAndApplyRefuses() throws {
        let (dir, file) = chain()
        chmod(dir.path + "/a", 0o777)
        let validate = try runAgent(["validate", file])
        #expect(validate.exitCode == 0)
        #expect(validate.stderr.hasPrefix("\(file):1:1: warning: \(dir.path)/a (a directory above the desired-state file) is writable by every user (mode 0777)"), "\(validate.stderr)")
        let apply = try runAgent(["apply", file, "--config-dir", dir.path + "/etc", "--state-dir", dir.path + "/state"])
        #expect(apply.exitCode == 1)
        #expect(apply.stderr.hasPrefix("\(file):1:1: error: \(dir.path)/a (a directory above the desired-state file) is writable by every user"), "\(apply.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/etc"))
    }
}
