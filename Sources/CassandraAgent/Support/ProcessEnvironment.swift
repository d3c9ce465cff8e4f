#if canImport(Glibc)
import Glibc
#endif

/// The process's environment, read once where it is needed: $CREDENTIALS_DIRECTORY
/// for stores, NOTIFY_SOCKET/INVOCATION_ID to know the agent runs under systemd.
enum ProcessEnvironment {
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") { result[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            cursor += 1
        }
        return result
    }
}
