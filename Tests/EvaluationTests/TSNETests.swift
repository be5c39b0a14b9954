import Basics
import Foundation
import Plots
import Testing

/// t-SNE keeps neighbourhoods: well-separated clusters in 20-D stay separated in 2-D, the
/// divergence falls after the exaggeration phase, and a seed fixes the result.
@Suite struct TSNETests {
    static func clusters(_ perCluster: Int) -> (points: [[Double]], labels: [Int]) {
        var g = SeededGenerator(seed: 3)
        var points: [[Double]] = [], labels: [Int] = []
        for c in 0..<4 {
            let centre = (0..<20).map { _ in g.normal() * 10 }
            for _ in 0..<perCluster {
                points.append(centre.map { $0 + g.normal() })
                labels.append(c)
            }
        }
        return (points, labels)
    }

    @Test func separatesClustersAndConverges() {
        let (points, labels) = Self.clusters(30)
        var tsne = TSNE()
        tsne.iterations = 500
        let result = tsne.embed(points)
        #expect(result.points.count == points.count)
        // Each point's nearest neighbour in 2-D belongs to its own cluster.
        var agree = 0
        for i in points.indices {
            let nearest = points.indices.filter { $0 != i }.min { a, b in
                hypot(result.points[a].x - result.points[i].x, result.points[a].y - result.points[i].y)
                    < hypot(result.points[b].x - result.points[i].x, result.points[b].y - result.points[i].y)
            }!
            if labels[nearest] == labels[i] { agree += 1 }
        }
        #expect(agree == points.count, "\(agree) of \(points.count) nearest neighbours in the same cluster")
        #expect(
            result.divergence < result.divergenceAfterExaggeration,
            "KL \(result.divergence) after vs \(result.divergenceAfterExaggeration) before")
        #expect(result.divergence.isFinite && result.divergence > 0)
    }

    @Test func aSeedFixesTheLayout() {
        let (points, _) = Self.clusters(8)
        var tsne = TSNE()
        tsne.iterations = 300
        let a = tsne.embed(points).points, b = tsne.embed(points).points
        #expect(zip(a, b).allSatisfy { $0.x == $1.x && $0.y == $1.y })
        tsne.seed = 1
        let c = tsne.embed(points).points
        #expect(!zip(a, c).allSatisfy { $0.x == $1.x && $0.y == $1.y })
    }
}
