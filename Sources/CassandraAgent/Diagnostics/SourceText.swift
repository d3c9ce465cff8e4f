/// An input file's bytes as text, strictly: invalid UTF-8 is refused with the
/// line and column of the first bad byte rather than replaced by U+FFFD, which
/// would render a cluster name that no longer matches the cluster's.
public enum SourceText {
    public struct DecodingError: Error, Sendable, Equatable {
        public var message: String
        public var mark: SourceMark
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Invalid somewhere: walk the scalars to say where (columns count characters, like libyaml's marks).
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1, column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
                if encoded.count == 1 && encoded.first == 0x0A {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error(let length):
                let byte = bytes[offset]
                let hex = String(byte, radix: 16, uppercase: true)
                throw DecodingError(
                    message: "the file is not valid UTF-8: byte 0x\(hex.count == 1 ? "0" + hex : hex) at line \(line), column \(column) (offset \(offset)\(length > 1 ? ", a sequence of \(length) bytes" : "")) is not part of a UTF-8 character; save the file as UTF-8",
                    mark: SourceMark(line: line, column: column))
            case .emptyInput:
                // Unreachable: String(validating:) refused the bytes.
                throw DecodingError(message: "the file is not valid UTF-8; save the file as UTF-8", mark: SourceMark(line: line, column: column))
            }
        }
    }
}
