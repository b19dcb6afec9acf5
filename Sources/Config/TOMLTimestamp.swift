/// TOML dates and times (RFC 3339): `1979-05-27`, `07:32:00.5`, `1979-05-27T07:32:00-07:00`.
///
/// edgegw computes with none, so a value is kept as normalized text: `T` between date and
/// time, trailing zeros of the fraction dropped (at most nanoseconds), `Z` for a zero offset.
enum TOMLTimestamp {
    struct Invalid: Error { let reason: String }

    static func format(_ token: [UInt8]) throws(Invalid) -> String {
        var reader = Reader(token: token)
        var text = ""
        var hasDate = false
        if token.count >= 5, token[4] == UInt8(ascii: "-") {
            let year = try reader.number(4, "a 4-digit year")
            try reader.expect("-")
            let month = try reader.number(2, "a 2-digit month")
            try reader.expect("-")
            let day = try reader.number(2, "a 2-digit day")
            guard (1...12).contains(month) else { throw Invalid(reason: "month \(month) is not 01 to 12") }
            guard day >= 1, day <= daysIn(month: month, year: year) else { throw Invalid(reason: "day \(day) is not in the month") }
            text = "\(pad(year, 4))-\(pad(month))-\(pad(day))"
            if reader.atEnd { return text }
            guard let separator = reader.next(), separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t")
                    || separator == UInt8(ascii: " ") else { throw Invalid(reason: "expected 'T' between the date and the time") }
            text += "T"
            hasDate = true
        }
        let hour = try reader.number(2, "a 2-digit hour")
        try reader.expect(":")
        let minute = try reader.number(2, "2-digit minutes")
        try reader.expect(":")
        let second = try reader.number(2, "2-digit seconds")
        guard hour <= 23, minute <= 59, second <= 60 else { throw Invalid(reason: "time \(pad(hour)):\(pad(minute)):\(pad(second)) is out of range") }
        text += "\(pad(hour)):\(pad(minute)):\(pad(second))"
        if reader.peek == UInt8(ascii: ".") {
            _ = reader.next()
            var digits: [UInt8] = []
            while let byte = reader.peek, TOMLCursor.isDigit(byte) { digits.append(byte); _ = reader.next() }
            guard !digits.isEmpty else { throw Invalid(reason: "expected digits after the decimal point") }
            var fraction = Array(digits.prefix(9))
            while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
            if !fraction.isEmpty { text += "." + String(decoding: fraction, as: UTF8.self) }
        }
        if hasDate, let sign = reader.peek {
            _ = reader.next()
            if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
                text += "Z"
            } else if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                let hours = try reader.number(2, "a 2-digit offset hour")
                try reader.expect(":")
                let minutes = try reader.number(2, "2-digit offset minutes")
                guard hours <= 23, minutes <= 59 else { throw Invalid(reason: "offset is out of range") }
                text += hours == 0 && minutes == 0 ? "Z" : "\(Character(Unicode.Scalar(sign)))\(pad(hours)):\(pad(minutes))"
            } else {
                throw Invalid(reason: "expected Z or an offset such as +08:00 after the time")
            }
        }
        guard reader.atEnd else { throw Invalid(reason: "unexpected text after the time") }
        return text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private struct Reader {
        let token: [UInt8]
        var index = 0

        var atEnd: Bool { index >= token.count }
        var peek: UInt8? { index < token.count ? token[index] : nil }

        mutating func next() -> UInt8? {
            defer { index += 1 }
            return peek
        }

        mutating func expect(_ character: Unicode.Scalar) throws(Invalid) {
            guard next() == UInt8(ascii: character) else { throw Invalid(reason: "expected '\(character)'") }
        }

        /// Exactly `count` digits.
        mutating func number(_ count: Int, _ what: String) throws(Invalid) -> Int {
            var value = 0
            for _ in 0..<count {
                guard let byte = next(), TOMLCursor.isDigit(byte) else { throw Invalid(reason: "expected \(what)") }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
    }
}
