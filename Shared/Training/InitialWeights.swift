import Basics
import Encoder
import Foundation

/// The backbone a pre-training run starts from instead of the seeded random init (torchvision's
/// ImageNet weights, or an earlier run's): the file read and a digest of its bytes, so the run's
/// config names exactly what decided its result and a changed file is refused, not silently used.
/// The projection head keeps its seeded init (a torchvision file has none; an earlier run's head
/// was fitted to that run's batches).
public struct InitialWeights: Codable, Equatable, Sendable {
    /// The .safetensors file (a run folder given resolves to its latest checkpoint's model file).
    public var path: String
    /// FNV-1a 64 of the file's bytes, hex.
    public var digest: String

    /// A file, or a run folder's latest checkpoint, read and digested.
    public static func describe(_ given: String) throws -> InitialWeights {
        var url = URL(fileURLWithPath: given)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw TrainingError.config("no such file or run folder")
        }
        if isFolder.boolValue {
            guard let checkpoint = try Checkpoint.latest(url) else { throw TrainingError.config("a folder without checkpoints") }
            url = checkpoint.appendingPathComponent("model.safetensors")
        }
        return InitialWeights(path: url.standardizedFileURL.path, digest: try digest(of: url))
    }

    static func digest(of url: URL) throws -> String {
        var hash = FNV1a64()
        try Data(contentsOf: url, options: .mappedIfSafe).withUnsafeBytes { hash.add($0) }
        return String(hash.value, radix: 16)
    }

    /// Loads the backbone into `model` (its `fc` head untouched); the file must still be the one
    /// the config names.
    public func load(into model: EncoderModel) throws {
        let url = URL(fileURLWithPath: path)
        let now = try Self.digest(of: url)
        guard now == digest else {
            throw TrainingError.config(
                "initial weights \(path) changed since the run was configured (digest \(now), the config says \(digest))")
        }
        do { try ModelState.load(contentsOf: url, into: model, scope: .backbone) } catch {
            throw TrainingError.config("initial weights \(path) do not fit the encoder: \(error)")
        }
    }
}
