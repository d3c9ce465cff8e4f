#if canImport(Glibc)
import Glibc
#endif

/// A zone that cannot be used, with a sentence an operator can act on.
public struct TimeZoneError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public var description: String { rawValue }
        /// The identifier is not a zone name (a path, `..`, odd characters).
        public static let invalidIdentifier = Code(rawValue: "timezone.invalid_identifier")
        /// No such zone in the zoneinfo directory.
        public static let unknownZone = Code(rawValue: "timezone.unknown")
        /// The zone exists but cannot be read (permissions, not a regular file, too large).
        public static let unreadable = Code(rawValue: "timezone.unreadable")
        /// The file is not a TZif file this reader understands.
        public static let malformed = Code(rawValue: "timezone.malformed")
    }

    public var code: Code
    public var identifier: String
    public var message: String

    public var description: String { message }
}

extension TimeZoneRules {
    public static let defaultZoneinfoDirectory = "/usr/share/zoneinfo"

    /// A zone file is a few KiB; anything far larger is not one.
    static let maximumFileSize = 256 * 1024

    /// Reads `identifier` ("Europe/Berlin") from `zoneinfoDirectory`. `UTC`, `Etc/UTC`
    /// and `Z` need no file.
    public init(identifier: String, zoneinfoDirectory: String = TimeZoneRules.defaultZoneinfoDirectory) throws(TimeZoneError) {
        if ["UTC", "Etc/UTC", "Z"].contains(identifier) {
            self.init(identifier: identifier, file: Self.utc.file)
            return
        }
        try Self.validate(identifier)
        let path = zoneinfoDirectory + "/" + identifier
        let bytes = try Self.readZoneFile(path, identifier: identifier, directory: zoneinfoDirectory)
        do {
            self.init(identifier: identifier, file: try TZifFile(parsing: bytes))
        } catch {
            throw TimeZoneError(code: .malformed, identifier: identifier, message: "time zone '\(identifier)' cannot be used: \(path): \(error.reason)")
        }
    }

    static func validate(_ identifier: String) throws(TimeZoneError) {
        func refuse(_ why: String) -> TimeZoneError {
            TimeZoneError(code: .invalidIdentifier, identifier: identifier,
                          message: "'\(identifier)' is not a time zone name: \(why); write an IANA name such as 'Europe/Berlin' or 'UTC'")
        }
        if identifier.isEmpty { throw refuse("it is empty") }
        if identifier.contains("..") { throw refuse("it contains '..'") }
        if identifier.hasPrefix("/") { throw refuse("it is an absolute path") }
        if identifier.utf8.count > 255 { throw refuse("it is longer than 255 characters") }
        let allowed = identifier.unicodeScalars.allSatisfy {
            ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || "/_+-".unicodeScalars.contains($0)
        }
        if !allowed { throw refuse("only letters, digits and / _ + - may appear in it") }
        if identifier.hasSuffix("/") || identifier.contains("//") { throw refuse("it has an empty path component") }
    }

    static func readZoneFile(_ path: String, identifier: String, directory: String) throws(TimeZoneError) -> [UInt8] {
        // O_NONBLOCK so a FIFO planted under the directory cannot hang the open; fstat then refuses it.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                guard FileIO.isDirectory(directory) else {
                    throw TimeZoneError(code: .unknownZone, identifier: identifier,
                                        message: "unknown time zone '\(identifier)': there is no time zone data in \(directory) (install the tzdata package)")
                }
                let hint = Suggestion.closest(to: identifier, in: zoneNames(in: directory)).map { "; did you mean '\($0)'?" } ?? ""
                throw TimeZoneError(code: .unknownZone, identifier: identifier,
                                    message: "unknown time zone '\(identifier)': no such zone in \(directory)\(hint)")
            }
            throw TimeZoneError(code: .unreadable, identifier: identifier,
                                message: "time zone '\(identifier)' cannot be read: \(SystemError("open", path: path, code: code))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw TimeZoneError(code: .unreadable, identifier: identifier, message: "time zone '\(identifier)' cannot be used: \(path) is not a regular file")
        }
        guard st.st_size <= maximumFileSize else {
            throw TimeZoneError(code: .unreadable, identifier: identifier,
                                message: "time zone '\(identifier)' cannot be used: \(path) is \(st.st_size) bytes, more than a zone file's \(maximumFileSize)")
        }
        // Read at most one byte past the limit, in case the file grows under us.
        var bytes = [UInt8](repeating: 0, count: maximumFileSize + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                throw TimeZoneError(code: .unreadable, identifier: identifier, message: "time zone '\(identifier)' cannot be read: \(SystemError("read", path: path))")
            }
            if n == 0 { break }
            count += n
        }
        guard count <= maximumFileSize else {
            throw TimeZoneError(code: .unreadable, identifier: identifier, message: "time zone '\(identifier)' cannot be used: \(path) is larger than \(maximumFileSize) bytes")
        }
        return Array(bytes[0..<count])
    }

    /// The zone names under `directory` (for "did you mean"), skipping the `posix/` and
    /// `right/` copies and the tables (`zone.tab`, whose names have a dot).
    static func zoneNames(in directory: String) -> [String] {
        var names: [String] = []
        func walk(_ relative: String, depth: Int) {
            guard depth < 4, let dir = opendir(relative.isEmpty ? directory : directory + "/" + relative) else { return }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasPrefix(".") || name.contains(".") || (depth == 0 && (name == "posix" || name == "right")) { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                if FileIO.isDirectory(directory + "/" + path) {
                    walk(path, depth: depth + 1)
                } else if (try? validate(path)) != nil {
                    names.append(path)
                }
            }
        }
        walk("", depth: 0)
        return names.sorted()
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
