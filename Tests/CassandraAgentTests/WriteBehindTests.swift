import Foundation
import Testing
@testable import CassandraAgent

/// A file:// object is written a window at a time behind the copy (sync_file_range, then
/// dropped from the page cache): the stored object must still be the source byte for byte,
/// across window boundaries and an uneven tail.
struct WriteBehindTests {
    @Test func anObjectLargerThanSeveralWindowsIsStoredByteIdentical() throws {
        let dir = TemporaryDirectory()
        // Not a multiple of the window or of the read chunk: the last window is partial.
        let size = Int(WriteBehind.window) * 3 + 12_345
        var bytes = [UInt8](repeating: 0, count: size)
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for i in 0..<size { state = state &* 6364136223846793005 &+ 1442695040888963407; bytes[i] = UInt8(truncatingIfNeeded: state >> 33) }
        let source = dir.path + "/nb-1-big-Data.db"
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        let store = FileObjectStore(root: dir.path + "/backups")
        let stored = try store.storeFile(source, host: "h1", knownSHA256: nil, context: TransferContext())
        #expect(stored.uploaded && stored.size == Int64(size))
        #expect(stored.sha256 == SHA256.hex(bytes))
        let object = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/backups/" + BackupLayout.object("h1", stored.sha256)))
        #expect(object == Data(bytes))
    }

    @Test func windowsAdvanceOnlyOnceAWholeWindowIsWritten() {
        var behind = WriteBehind(fd: -1)
        behind.wrote(upTo: WriteBehind.window - 1)
        #expect(behind.started == 0 && behind.settled == 0, "less than a window: nothing started")
        behind.wrote(upTo: WriteBehind.window)
        // fd -1 fails (EBADF): write-behind turns itself off and the copy goes on without it.
        #expect(behind.supported == false)
        #expect(behind.started == WriteBehind.window)
        behind.wrote(upTo: 3 * WriteBehind.window)
        #expect(behind.started == WriteBehind.window, "off: no more calls")
    }
}
