import Basics

/// The parameters of one op in a recipe, read key by key: each getter checks type and range and
/// falls back to the op's default when the key is absent; `finish` refuses keys nobody read.
public struct OpParameters {
    public let op: String
    public let position: Int
    private var values: [String: JSONValue]

    public init(op: String, position: Int, values: [String: JSONValue]) {
        (self.op, self.position, self.values) = (op, position, values)
    }

    private func error(_ key: String, _ message: String) -> Problem {
        Problem("op \(position + 1) (\(op)): \(key) \(message)")
    }

    public mutating func number(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let raw = values.removeValue(forKey: key) else { return value }
        guard case .number(let number) = raw else { throw error(key, "must be a number, got \(raw.summary)") }
        guard range.contains(number) else { throw error(key, "must lie in [\(range.lowerBound), \(range.upperBound)], got \(raw.summary)") }
        return number
    }

    public mutating func integer(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        let number = try self.number(key, default: Double(value), in: Double(range.lowerBound)...Double(range.upperBound))
        guard number.rounded() == number else { throw error(key, "must be a whole number, got \(number)") }
        return Int(number)
    }

    /// A [low, high] pair inside `range` with low <= high.
    public mutating func interval(
        _ key: String, default value: ClosedRange<Double>, in range: ClosedRange<Double>
    ) throws -> ClosedRange<Double> {
        guard let raw = values.removeValue(forKey: key) else { return value }
        let pair = try numbers(key, raw, count: 2)
        guard pair[0] <= pair[1], range.contains(pair[0]), range.contains(pair[1]) else {
            throw error(key, "must be [low, high] with low <= high inside [\(range.lowerBound), \(range.upperBound)], got \(raw.summary)")
        }
        return pair[0]...pair[1]
    }

    /// Exactly `count` numbers, each accepted by `check`.
    public mutating func numbers(
        _ key: String, default value: [Double], count: Int, check: (Double) -> Bool, rule: String
    ) throws -> [Double] {
        guard let raw = values.removeValue(forKey: key) else { return value }
        let list = try numbers(key, raw, count: count)
        guard list.allSatisfy(check) else { throw error(key, "must hold \(rule), got \(raw.summary)") }
        return list
    }

    private func numbers(_ key: String, _ raw: JSONValue, count: Int) throws -> [Double] {
        guard case .array(let items) = raw, items.count == count else {
            throw error(key, "must be a list of \(count) numbers, got \(raw.summary)")
        }
        return try items.map {
            guard case .number(let number) = $0 else { throw error(key, "must be a list of \(count) numbers, got \(raw.summary)") }
            return number
        }
    }

    public mutating func choice(_ key: String, default value: String, from allowed: [String]) throws -> String {
        guard let raw = values.removeValue(forKey: key) else { return value }
        guard case .string(let text) = raw, allowed.contains(text) else {
            throw error(key, "must be one of \(allowed.joined(separator: ", ")), got \(raw.summary)")
        }
        return text
    }

    /// Throws if the recipe names a parameter the op does not have (a typo would otherwise run
    /// silently with the default).
    public func finish(known: [String]) throws {
        guard let stray = values.keys.sorted().first else { return }
        throw Problem("op \(position + 1) (\(op)): unknown parameter \"\(stray)\"; \(op) takes \(known.joined(separator: ", "))")
    }
}
