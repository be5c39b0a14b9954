import Foundation

/// A chart's data area: maps data coordinates into a frame and draws the grid, ticks, labels
/// and title around it.
public struct Axes {
    public let frame: Rect
    public let x: ClosedRange<Double>, y: ClosedRange<Double>

    /// Room left around the data area for tick labels, axis labels and the title.
    public static let margins = (left: 62.0, top: 34.0, right: 14.0, bottom: 46.0)

    public init(in outer: Rect, x: ClosedRange<Double>, y: ClosedRange<Double>) {
        frame = outer.inset(left: Self.margins.left, top: Self.margins.top, right: Self.margins.right, bottom: Self.margins.bottom)
        // A flat range gets some height, so a constant series is drawn mid-frame.
        self.x = x.lowerBound < x.upperBound ? x : (x.lowerBound - 1)...(x.upperBound + 1)
        self.y = y.lowerBound < y.upperBound ? y : (y.lowerBound - 1)...(y.upperBound + 1)
    }

    public func point(_ px: Double, _ py: Double) -> (Double, Double) {
        (
            frame.x + (px - x.lowerBound) / (x.upperBound - x.lowerBound) * frame.width,
            frame.maxY - (py - y.lowerBound) / (y.upperBound - y.lowerBound) * frame.height
        )
    }

    /// Frame, grid lines at "nice" ticks with their labels, axis labels, title.
    public func draw(on canvas: Canvas, title: String, xLabel: String, yLabel: String, ticks: Bool = true) {
        if ticks {
            for t in Self.ticks(y) {
                let (_, py) = point(x.lowerBound, t)
                canvas.line([(frame.x, py), (frame.maxX, py)], .lightGrey, width: 1)
                canvas.text(Self.label(t), x: frame.x - 6, y: py + 4, size: 11, anchor: .right)
            }
            for t in Self.ticks(x) {
                let (px, _) = point(t, y.lowerBound)
                canvas.line([(px, frame.y), (px, frame.maxY)], .lightGrey, width: 1)
                canvas.text(Self.label(t), x: px, y: frame.maxY + 16, size: 11, anchor: .centre)
            }
        }
        canvas.stroke(frame, .grey)
        canvas.text(title, x: frame.x + frame.width / 2, y: frame.y - 12, size: 14, anchor: .centre, bold: true)
        canvas.text(xLabel, x: frame.x + frame.width / 2, y: frame.maxY + 36, size: 12, anchor: .centre)
        canvas.text(yLabel, x: frame.x - 46, y: frame.y + frame.height / 2, size: 12, anchor: .centre, vertical: true)
    }

    /// About five round-numbered ticks (1, 2 or 5 times a power of ten apart) inside a range.
    public static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var t = (range.lowerBound / step).rounded(.up) * step, out: [Double] = []
        while t <= range.upperBound + step * 1e-9 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e6 { return String(Int(v)) }
        return String(format: abs(v) >= 0.01 ? "%.2f" : "%.1e", v).replacingOccurrences(
            of: #"(\.\d*?)0+$"#, with: "$1", options: .regularExpression)
    }

    /// A legend box in the frame's top-right corner.
    public func legend(on canvas: Canvas, _ entries: [(String, Colour)]) {
        let rowHeight = 17.0, width = 14 + 7.2 * Double(entries.map(\.0.count).max() ?? 0) + 22
        let box = Rect(x: frame.maxX - width - 6, y: frame.y + 6, width: width, height: rowHeight * Double(entries.count) + 8)
        canvas.fill(box, .white)
        canvas.stroke(box, .lightGrey)
        for (i, (name, colour)) in entries.enumerated() {
            let cy = box.y + 4 + rowHeight * (Double(i) + 0.5)
            canvas.dot(box.x + 11, cy, radius: 4.5, colour)
            canvas.text(name, x: box.x + 22, y: cy + 4, size: 11)
        }
    }
}
