import Datasets
import Foundation
import Images

/// Runs a detector over many image files on a few threads; results come back in input order.
public enum DetectionRunner {
    public static func run(_ detector: some LesionDetector, on paths: [String], threads: Int) throws -> [[LesionBox]] {
        nonisolated(unsafe) var results = [Result<[LesionBox], Error>?](repeating: nil, count: paths.count)
        let lock = NSLock()
        let parts = max(1, min(threads, paths.count))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for index in stride(from: part, to: paths.count, by: parts) {
                let result = Result { try detector.detect(try ImageDecoder.decode(contentsOf: paths[index]), imageID: paths[index]) }
                lock.lock()
                results[index] = result
                lock.unlock()
            }
        }
        return try results.map { try $0!.get() }
    }
}
