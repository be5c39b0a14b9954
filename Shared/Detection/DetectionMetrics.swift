import Datasets

/// Precision, recall and average precision of detections against ground-truth boxes.
///
/// A detection hits a ground-truth lesion of its family (dark or bright) when their IoU is at
/// least 0.3 or the detection's centre lies inside the lesion's box grown by 2 px. Small lesions
/// are scored by a hit criterion like this in the retinal literature (the ROC microaneurysm
/// challenge, Niemeijer et al. 2010), because a 3-px microaneurysm's box makes IoU meaningless.
/// Precision counts detections that hit any lesion; recall counts lesions hit by any detection.
public struct DetectionScore: Sendable, Equatable {
    public var images = 0
    public var lesions = 0
    public var detections = 0
    public var hits = 0  // detections that hit a lesion
    public var found = 0  // lesions hit by at least one detection
    /// Area under the precision-recall curve over all scores (all-points interpolation, VOC 2010+).
    public var averagePrecision = 0.0

    public var precision: Double { detections == 0 ? 0 : Double(hits) / Double(detections) }
    public var recall: Double { lesions == 0 ? 0 : Double(found) / Double(lesions) }
}

public enum DetectionMetrics {
    public static func hits(_ detection: LesionBox, _ lesion: LesionBox) -> Bool {
        guard let a = LesionFamily(className: detection.lesionClass), a == LesionFamily(className: lesion.lesionClass) else { return false }
        let (cx, cy) = (detection.x + detection.width / 2, detection.y + detection.height / 2)
        let inside = cx >= lesion.x - 2 && cx <= lesion.x + lesion.width + 2 && cy >= lesion.y - 2 && cy <= lesion.y + lesion.height + 2
        return inside || detection.iou(lesion) >= 0.3
    }

    /// Scores the detections of `images`; those at or above `threshold` count for precision and
    /// recall, all of them for average precision.
    public static func evaluate(
        images: [String], detections: [String: [LesionBox]], truth: [String: [LesionBox]], threshold: Double,
        family: LesionFamily? = nil
    ) -> DetectionScore {
        func keep(_ box: LesionBox) -> Bool { family == nil || LesionFamily(className: box.lesionClass) == family }
        var score = DetectionScore()
        score.images = images.count
        // Every detection with the lesions it hits (lesion ids are image-qualified).
        var ranked: [(score: Double, lesions: [String])] = []
        for image in images {
            let lesions = (truth[image] ?? []).filter(keep)
            score.lesions += lesions.count
            var foundHere = Set<Int>()
            for d in (detections[image] ?? []).filter(keep) {
                let hit = lesions.indices.filter { hits(d, lesions[$0]) }
                ranked.append((d.score, hit.map { "\(image)#\($0)" }))
                guard d.score >= threshold else { continue }
                score.detections += 1
                if !hit.isEmpty { score.hits += 1 }
                foundHere.formUnion(hit)
            }
            score.found += foundHere.count
        }
        score.averagePrecision = averagePrecision(ranked, lesions: score.lesions)
        return score
    }

    static func averagePrecision(_ ranked: [(score: Double, lesions: [String])], lesions: Int) -> Double {
        guard lesions > 0, !ranked.isEmpty else { return 0 }
        let sorted = ranked.sorted { $0.score > $1.score }
        var found = Set<String>(), hits = 0
        var points: [(recall: Double, precision: Double)] = []
        for (k, d) in sorted.enumerated() {
            if !d.lesions.isEmpty { hits += 1 }
            found.formUnion(d.lesions)
            points.append((Double(found.count) / Double(lesions), Double(hits) / Double(k + 1)))
        }
        // Interpolate: precision at recall r = the best precision at any recall >= r.
        var ap = 0.0, best = 0.0, previousRecall = 0.0
        var envelope = [Double](repeating: 0, count: points.count)
        for k in stride(from: points.count - 1, through: 0, by: -1) {
            best = max(best, points[k].precision)
            envelope[k] = best
        }
        for (k, p) in points.enumerated() {
            ap += (p.recall - previousRecall) * envelope[k]
            previousRecall = p.recall
        }
        return ap
    }
}
