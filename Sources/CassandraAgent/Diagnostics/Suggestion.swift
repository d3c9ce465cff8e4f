/// "Did you mean" for a misspelt name: the closest known name, if it is close.
///
/// Bounded so that a file of 100,000 unknown names stays fast: a candidate whose
/// length differs by more than the allowed distance is skipped without computing
/// anything, the distance itself stops once it exceeds what is allowed, and a
/// `Budget` stops suggesting after the first names of one run.
enum Suggestion {
    /// How many names of one run get a suggestion; the rest are still reported, without one.
    struct Budget {
        var remaining: Int

        init(_ remaining: Int = 20) {
            self.remaining = remaining
        }

        /// The candidates are built only while the budget lasts.
        mutating func hint<Candidates: Sequence<String>>(for name: String, in candidates: @autoclosure () -> Candidates) -> String {
            guard remaining > 0 else { return "" }
            remaining -= 1
            return Suggestion.hint(for: name, in: candidates())
        }
    }

    /// Close means a few typos, scaled to the length of the name.
    static func allowedDistance(for name: String) -> Int {
        max(2, min(4, name.utf8.count / 3))
    }

    static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let lowered = Array(name.lowercased().utf8)
        let allowed = allowedDistance(for: name)
        // Nothing in the schema is this long: no candidate can be close.
        guard lowered.count <= 256 else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let other = Array(candidate.lowercased().utf8)
            guard abs(other.count - lowered.count) <= allowed else { continue }
            let limit = min(allowed, best?.distance ?? allowed)
            guard let distance = editDistance(lowered, other, atMost: limit) else { continue }
            if best == nil || distance < best!.distance || (distance == best!.distance && candidate < best!.name) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    static func hint(for name: String, in candidates: some Sequence<String>) -> String {
        closest(to: name, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        return editDistance(a, b, atMost: max(a.count, b.count))!
    }

    /// Levenshtein distance, or nil as soon as it must exceed `limit`.
    static func editDistance(_ a: [UInt8], _ b: [UInt8], atMost limit: Int) -> Int? {
        if a.isEmpty { return b.count <= limit ? b.count : nil }
        if b.isEmpty { return a.count <= limit ? a.count : nil }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMinimum = min(rowMinimum, current[j])
            }
            // Every later row is at least this row's minimum.
            if rowMinimum > limit { return nil }
            swap(&previous, &current)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }
}
