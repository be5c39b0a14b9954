/// Counts of (true class, predicted class) over `classes` classes: rows are the truth.
public struct ConfusionMatrix: Equatable, Sendable, Codable {
    public let classes: Int
    public private(set) var counts: [[Int]]

    /// Classes must lie in 0..<classes (callers validate their inputs and name the bad row).
    public init(truth: [Int], predicted: [Int], classes: Int) {
        precondition(truth.count == predicted.count, "one prediction per truth")
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (t, p) in zip(truth, predicted) { counts[t][p] += 1 }
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1][$1] } }
    public var accuracy: Double { total == 0 ? .nan : Double(correct) / Double(total) }

    /// Recall of each class; nil for a class the truth never holds.
    public var recall: [Double?] {
        counts.enumerated().map { c, row in
            let n = row.reduce(0, +)
            return n == 0 ? nil : Double(row[c]) / Double(n)
        }
    }
}
