import Encoder
import Foundation

/// The classifier's losses, as PyTorch computes them (mean over the batch), each with the
/// gradient of the loss with respect to the logits. Checked against torch.nn.functional values.
public enum ClassificationLoss {
    /// torch.nn.functional.cross_entropy: -log softmax(logits)[target], averaged over rows.
    /// The gradient is (softmax - onehot) / rows.
    public static func softmaxCrossEntropy(_ logits: Matrix, targets: [Int]) -> (loss: Double, gradient: Matrix) {
        precondition(targets.count == logits.rows, "\(targets.count) targets for \(logits.rows) rows")
        let (n, k) = (logits.rows, logits.cols)
        let gradient = Matrix(rows: n, cols: k)
        var total = 0.0
        for r in 0..<n {
            let p = softmax(logits, row: r)
            precondition((0..<k).contains(targets[r]), "target \(targets[r]) outside 0..<\(k)")
            total -= log(max(p[targets[r]], .leastNormalMagnitude))
            for j in 0..<k { gradient.pointer[r * k + j] = Float((p[j] - (j == targets[r] ? 1 : 0)) / Double(n)) }
        }
        return (total / Double(n), gradient)
    }

    /// torch.nn.functional.binary_cross_entropy_with_logits, averaged over every element:
    /// max(x, 0) - x y + log(1 + exp(-|x|)) (the stable form). The gradient is
    /// (sigmoid(x) - y) / (rows * cols).
    public static func binaryCrossEntropy(_ logits: Matrix, targets: [[Bool]]) -> (loss: Double, gradient: Matrix) {
        precondition(targets.count == logits.rows, "\(targets.count) targets for \(logits.rows) rows")
        let (n, k) = (logits.rows, logits.cols)
        let gradient = Matrix(rows: n, cols: k)
        let count = Double(n * k)
        var total = 0.0
        for r in 0..<n {
            for j in 0..<k {
                let x = Double(logits.pointer[r * k + j]), y = targets[r][j] ? 1.0 : 0.0
                total += max(x, 0) - x * y + log1p(exp(-abs(x)))
                gradient.pointer[r * k + j] = Float((sigmoid(x) - y) / count)
            }
        }
        return (total / count, gradient)
    }

    /// Softmax of one row, in double, shifted by the row's maximum.
    public static func softmax(_ logits: Matrix, row r: Int) -> [Double] {
        let k = logits.cols
        let values = (0..<k).map { Double(logits.pointer[r * k + $0]) }
        let top = values.max() ?? 0
        let e = values.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    public static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}
