import Foundation

/// Something drawn into one panel of a figure.
public protocol Chart {
    func draw(on canvas: Canvas, in frame: Rect)
}

/// Panels in a grid, written as one PNG.
public enum Figure {
    public static func render(_ panels: [any Chart], columns: Int, panelWidth: Int = 520, panelHeight: Int = 400) -> Canvas {
        let columns = max(1, min(columns, panels.count))
        let rows = (panels.count + columns - 1) / columns
        let canvas = Canvas(width: columns * panelWidth, height: max(rows, 1) * panelHeight)
        for (i, panel) in panels.enumerated() {
            let frame = Rect(
                x: Double(i % columns * panelWidth), y: Double(i / columns * panelHeight), width: Double(panelWidth),
                height: Double(panelHeight))
            panel.draw(on: canvas, in: frame)
        }
        return canvas
    }
}

/// Lines over a shared x axis (training-loss curves).
public struct LineChart: Chart {
    public var title: String, xLabel: String, yLabel: String
    public var series: [(name: String, points: [(x: Double, y: Double)])]

    public init(title: String, xLabel: String, yLabel: String, series: [(name: String, points: [(x: Double, y: Double)])]) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
    }

    public func draw(on canvas: Canvas, in frame: Rect) {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let xMin = all.map(\.x).min(), let xMax = all.map(\.x).max(), let yMin = all.map(\.y).min(), let yMax = all.map(\.y).max()
        else {
            canvas.text("\(title): no data", x: frame.x + 20, y: frame.y + 30)
            return
        }
        let pad = (yMax - yMin) * 0.05
        let axes = Axes(in: frame, x: xMin...xMax, y: min(0, yMin - pad) == 0 && yMin >= 0 ? 0...(yMax + pad) : (yMin - pad)...(yMax + pad))
        axes.draw(on: canvas, title: title, xLabel: xLabel, yLabel: yLabel)
        for (i, s) in series.enumerated() {
            canvas.line(s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { axes.point($0.x, $0.y) }, Colour.series(i), width: 1.8)
        }
        if series.count > 1 { axes.legend(on: canvas, series.enumerated().map { ($1.name, Colour.series($0)) }) }
    }
}

/// A confusion matrix: rows the truth, columns the prediction, each cell its count, shaded by
/// the row's share (so a class's recall reads as the darkness of its diagonal cell).
public struct ConfusionChart: Chart {
    public var title: String
    public var counts: [[Int]]
    public var labels: [String]

    public init(title: String, counts: [[Int]], labels: [String]) { (self.title, self.counts, self.labels) = (title, counts, labels) }

    public func draw(on canvas: Canvas, in frame: Rect) {
        let k = counts.count
        let area = frame.inset(left: 70, top: 40, right: 20, bottom: 50)
        let side = min(area.width, area.height) / Double(max(k, 1))
        let origin = (x: area.x + (area.width - side * Double(k)) / 2, y: area.y)
        canvas.text(title, x: frame.x + frame.width / 2, y: frame.y + 22, size: 14, anchor: .centre, bold: true)
        for r in 0..<k {
            let rowTotal = max(counts[r].reduce(0, +), 1)
            for c in 0..<k {
                let share = Double(counts[r][c]) / Double(rowTotal)
                let cell = Rect(x: origin.x + Double(c) * side, y: origin.y + Double(r) * side, width: side, height: side)
                // White to the palette's blue.
                let blue = Colour.palette[0]
                canvas.fill(cell, Colour(1 - share * (1 - blue.r), 1 - share * (1 - blue.g), 1 - share * (1 - blue.b)))
                canvas.stroke(cell, .lightGrey)
                canvas.text(
                    "\(counts[r][c])", x: cell.x + side / 2, y: cell.y + side / 2 + 5, size: min(15, side / 3), anchor: .centre,
                    colour: share > 0.5 ? .white : .black)
            }
            canvas.text(labels[r], x: origin.x - 8, y: origin.y + (Double(r) + 0.5) * side + 4, size: 12, anchor: .right)
            canvas.text(labels[r], x: origin.x + (Double(r) + 0.5) * side, y: origin.y + Double(k) * side + 16, size: 12, anchor: .centre)
        }
        canvas.text("predicted", x: origin.x + side * Double(k) / 2, y: origin.y + Double(k) * side + 36, size: 12, anchor: .centre)
        canvas.text("truth", x: origin.x - 40, y: origin.y + side * Double(k) / 2, size: 12, anchor: .centre, vertical: true)
    }
}

/// Points coloured by category (2-D projections of embeddings); the axes carry no scale,
/// since t-SNE's coordinates have no meaning beyond neighbourhoods.
public struct ScatterChart: Chart {
    public var title: String
    public var points: [(x: Double, y: Double, category: Int)]
    public var categories: [(name: String, colour: Colour)]

    public init(title: String, points: [(x: Double, y: Double, category: Int)], categories: [(name: String, colour: Colour)]) {
        (self.title, self.points, self.categories) = (title, points, categories)
    }

    public func draw(on canvas: Canvas, in frame: Rect) {
        guard !points.isEmpty else {
            canvas.text("\(title): no points", x: frame.x + 20, y: frame.y + 30)
            return
        }
        // t-SNE can fling a few points far from the rest; a range set by them squeezes everything
        // else into a corner. The axes span the central 98 % (padded), and the few points beyond
        // sit on the frame's edge, counted in the title.
        let (xr, yr) = (Self.extent(points.map(\.x)), Self.extent(points.map(\.y)))
        let clamped = points.filter { !xr.contains($0.x) || !yr.contains($0.y) }.count
        let axes = Axes(in: frame, x: xr, y: yr)
        axes.draw(
            on: canvas, title: clamped == 0 ? title : "\(title) (\(clamped) outliers on the edge)", xLabel: "t-SNE 1", yLabel: "t-SNE 2",
            ticks: false)
        for p in points {
            let (sx, sy) = axes.point(min(max(p.x, xr.lowerBound), xr.upperBound), min(max(p.y, yr.lowerBound), yr.upperBound))
            canvas.dot(sx, sy, radius: 3.2, categories[p.category].colour, alpha: 0.8)
        }
        axes.legend(on: canvas, categories.map { ($0.name, $0.colour) })
    }

    /// The 1st-99th percentile range padded by a quarter of its width (the full range, padded by
    /// 5 %, when that is no wider).
    static func extent(_ values: [Double]) -> ClosedRange<Double> {
        let sorted = values.sorted()
        func padded(_ lo: Double, _ hi: Double, _ share: Double) -> ClosedRange<Double> {
            let pad = max((hi - lo) * share, 1e-9)
            return (lo - pad)...(hi + pad)
        }
        let full = padded(sorted.first!, sorted.last!, 0.05)
        let k = sorted.count / 100
        let central = padded(sorted[k], sorted[sorted.count - 1 - k], 0.25)
        return central.upperBound - central.lowerBound < full.upperBound - full.lowerBound ? central : full
    }
}
