import Basics
import Datasets
import Images

/// Runs a detector over many image files on a few threads; results come back in input order.
public enum DetectionRunner {
    public static func run(_ detector: some LesionDetector, on paths: [String], threads: Int) throws -> [[LesionBox]] {
        try Parallel.map(paths.count, threads: threads) { index in
            try detector.detect(try ImageDecoder.decode(contentsOf: paths[index]), imageID: paths[index])
        }
    }
}
