/// The POSIX TZ string of a TZif footer (`CET-1CEST,M3.5.0,M10.5.0/3`): the rule for
/// every instant after the file's last transition. Debian's "slim" zone files end
/// their tables early and lean on it for all of today's dates.
struct PosixTimeZoneRule: Sendable, Equatable {
    /// Seconds east of UTC (POSIX writes them west: `CET-1` is +3600).
    var standardOffset: Int
    var daylight: Daylight?

    struct Daylight: Sendable, Equatable {
        var offset: Int
        var start: Transition
        var end: Transition
    }

    /// A yearly change: a day rule and the local time (in the time then in force) it happens at.
    /// tzcode version 3 allows times from -167 to 167 hours, so a change can fall in another day or year.
    struct Transition: Sendable, Equatable {
        var date: DateRule
        var time: Int
    }

    enum DateRule: Sendable, Equatable {
        /// `Jn`: day 1...365, February 29 never counted.
        case julian(Int)
        /// `n`: day 0...365 counting February 29.
        case zeroBased(Int)
        /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = the last) of month m.
        case monthWeek(month: Int, week: Int, weekday: Int)
    }

    /// A change of offset at an instant, for one year of the rule.
    struct Change {
        var at: Int64
        var offset: Int
        var isDaylight: Bool
    }

    func offset(at t: Int64) -> Int {
        guard let daylight else { return standardOffset }
        let year = LocalDateTime(wallSeconds: t + Int64(standardOffset)).year
        var current = standardOffset
        for change in changes(years: (year - 2)...(year + 1), daylight) {
            guard change.at <= t else { break }
            current = change.offset
        }
        return current
    }

    /// The offset changes from `lower` through `upper`, each with the offset before it.
    func changes(from lower: Int64, through upper: Int64) -> [(at: Int64, before: Int, after: Int)] {
        guard let daylight else { return [] }
        let first = LocalDateTime(wallSeconds: lower).year, last = LocalDateTime(wallSeconds: upper).year
        let all = changes(years: (first - 2)...(last + 1), daylight)
        var result: [(at: Int64, before: Int, after: Int)] = []
        for (previous, change) in zip(all, all.dropFirst()) where change.at >= lower && change.at <= upper && previous.offset != change.offset {
            result.append((change.at, previous.offset, change.offset))
        }
        return result
    }

    private func changes(years: ClosedRange<Int>, _ daylight: Daylight) -> [Change] {
        var result: [Change] = []
        for year in years {
            let start = Self.day(of: daylight.start.date, in: year) * 86_400 + Int64(daylight.start.time) - Int64(standardOffset)
            let end = Self.day(of: daylight.end.date, in: year) * 86_400 + Int64(daylight.end.time) - Int64(daylight.offset)
            result.append(Change(at: start, offset: daylight.offset, isDaylight: true))
            result.append(Change(at: end, offset: standardOffset, isDaylight: false))
        }
        // On a tie the start of daylight time wins: `EST5EDT4,0/0,J365/25` is daylight time all year.
        return result.sorted { ($0.at, $0.isDaylight ? 1 : 0) < ($1.at, $1.isDaylight ? 1 : 0) }
    }

    /// The day number (0 = 1970-01-01) the rule names in `year`.
    static func day(of rule: DateRule, in year: Int) -> Int64 {
        let january1 = CivilCalendar.days(year: year, month: 1, day: 1)
        switch rule {
        case .julian(let n):
            return january1 + Int64(n - 1) + (CivilCalendar.isLeap(year) && n >= 60 ? 1 : 0)
        case .zeroBased(let n):
            return january1 + Int64(n)
        case .monthWeek(let month, let week, let weekday):
            let first = CivilCalendar.days(year: year, month: month, day: 1)
            var day = 1 + (weekday - CivilCalendar.weekday(ofDay: first) + 7) % 7 + (week - 1) * 7
            while day > CivilCalendar.daysInMonth(year: year, month: month) { day -= 7 }
            return first + Int64(day - 1)
        }
    }
}

extension PosixTimeZoneRule {
    /// Parses a TZ string; nil if it is not one (the caller names the file).
    init?(parsing text: String) {
        var scanner = Scanner(Array(text.utf8))
        guard scanner.name() != nil, let std = scanner.time(maxHours: 24) else { return nil }
        standardOffset = -std
        guard !scanner.atEnd else { daylight = nil; return }
        guard scanner.name() != nil else { return nil }
        var dst = standardOffset + 3600
        if let c = scanner.peek, c != UInt8(ascii: ",") {
            guard let value = scanner.time(maxHours: 24) else { return nil }
            dst = -value
        }
        var start = Transition(date: .monthWeek(month: 3, week: 2, weekday: 0), time: 7200)
        var end = Transition(date: .monthWeek(month: 11, week: 1, weekday: 0), time: 7200)
        if !scanner.atEnd {
            // Without rules tzcode falls back to the US rules; so do we.
            guard scanner.take(","), let s = scanner.transition(), scanner.take(","), let e = scanner.transition(), scanner.atEnd else { return nil }
            (start, end) = (s, e)
        }
        daylight = Daylight(offset: dst, start: start, end: end)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func take(_ c: Character) -> Bool {
            guard peek == c.asciiValue else { return false }
            index += 1
            return true
        }

        /// `EST` (3+ letters) or `<+0330>` (letters, digits, signs).
        mutating func name() -> String? {
            let begin = index
            if take("<") {
                while let c = peek, c != UInt8(ascii: ">") {
                    guard isLetter(c) || isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") else { return nil }
                    index += 1
                }
                guard take(">"), index - begin >= 5 else { return nil }
            } else {
                while let c = peek, isLetter(c) { index += 1 }
                guard index - begin >= 3 else { return nil }
            }
            return String(decoding: bytes[begin..<index], as: UTF8.self)
        }

        /// `[+-]hh[:mm[:ss]]` in seconds.
        mutating func time(maxHours: Int) -> Int? {
            var sign = 1
            if take("-") { sign = -1 } else { _ = take("+") }
            guard let hours = number(maxDigits: 3), hours <= maxHours else { return nil }
            var seconds = hours * 3600
            if take(":") {
                guard let minutes = number(maxDigits: 2), minutes < 60 else { return nil }
                seconds += minutes * 60
                if take(":") {
                    guard let s = number(maxDigits: 2), s < 60 else { return nil }
                    seconds += s
                }
            }
            return sign * seconds
        }

        mutating func transition() -> Transition? {
            let date: DateRule
            if take("J") {
                guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
                date = .julian(n)
            } else if take("M") {
                guard let m = number(maxDigits: 2), (1...12).contains(m), take("."),
                      let w = number(maxDigits: 1), (1...5).contains(w), take("."),
                      let d = number(maxDigits: 1), (0...6).contains(d) else { return nil }
                date = .monthWeek(month: m, week: w, weekday: d)
            } else {
                guard let n = number(maxDigits: 3), (0...365).contains(n) else { return nil }
                date = .zeroBased(n)
            }
            var time = 7200
            if take("/") {
                guard let t = self.time(maxHours: 167) else { return nil }
                time = t
            }
            return Transition(date: date, time: time)
        }

        mutating func number(maxDigits: Int) -> Int? {
            var value = 0, digits = 0
            while let c = peek, isDigit(c), digits < maxDigits {
                value = value * 10 + Int(c - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
            return digits > 0 ? value : nil
        }

        func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") }
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    }
}
