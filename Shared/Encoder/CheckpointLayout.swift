import Basics
import Foundation

/// Where a run folder keeps its checkpoints: `checkpoints/step-NNNNNN/` (model.safetensors with
/// torchvision's names, beside the trainer's state) and `checkpoints/latest`, naming the newest.
/// Anything that loads trained weights reads this layout; only training writes it.
public enum CheckpointLayout {
    public static func folder(_ run: URL) -> URL { run.appendingPathComponent("checkpoints") }

    /// The newest checkpoint of a run folder, if any.
    public static func latest(_ run: URL) throws -> URL? {
        let pointer = folder(run).appendingPathComponent("latest")
        guard let text = try? String(contentsOf: pointer, encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.hasPrefix("step-"), !name.contains("/") else {
            throw Problem("\(pointer.path) names \"\(name)\", not a checkpoint")
        }
        return folder(run).appendingPathComponent(name)
    }
}
