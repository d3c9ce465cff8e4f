/// One finding about an input file, printed the way compilers print them:
/// `FILE:LINE:COLUMN: error: MESSAGE`, so editors and CI can jump to it.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var file: String
    public var mark: SourceMark
    public var message: String

    public init(_ severity: Severity, file: String, mark: SourceMark, message: String) {
        self.severity = severity
        self.file = file
        self.mark = mark
        self.message = message
    }

    public var description: String {
        "\(file):\(mark.line):\(mark.column): \(severity.rawValue): \(message)"
    }
}

/// Collects every finding of one run instead of stopping at the first.
public struct Diagnostics: Sendable {
    public let file: String
    public private(set) var items: [Diagnostic] = []

    public init(file: String) {
        self.file = file
    }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }

    public mutating func error(_ message: String, at mark: SourceMark) {
        items.append(Diagnostic(.error, file: file, mark: mark, message: message))
    }

    public mutating func warning(_ message: String, at mark: SourceMark) {
        items.append(Diagnostic(.warning, file: file, mark: mark, message: message))
    }

    /// Findings in file order, each once. Linear for findings already in order (the
    /// common case, also for a file of 100,000 unknown settings); duplicates share a mark.
    public var sorted: [Diagnostic] {
        var ordered = items
        if !zip(items, items.dropFirst()).allSatisfy({ $0.mark <= $1.mark }) {
            ordered = items.enumerated()
                .sorted { ($0.element.mark, $0.offset) < ($1.element.mark, $1.offset) }
                .map(\.element)
        }
        var result: [Diagnostic] = []
        result.reserveCapacity(ordered.count)
        var runStart = 0
        for item in ordered {
            if let last = result.last, last.mark != item.mark { runStart = result.count }
            if !result[runStart...].contains(item) { result.append(item) }
        }
        return result
    }
}

/// The error a command reports when an input file is invalid: all its findings.
public struct InvalidInput: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
