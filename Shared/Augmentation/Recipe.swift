import Basics
import Foundation
import ImageOps

/// An augmentation pipeline: image ops in order, then optional normalisation. Written as JSON,
/// `{"ops": [{"op": "horizontal-flip", "p": 0.5}, ..., {"op": "normalize", ...}]}`
/// (docs/augmentation.md lists every op and parameter).
public struct Recipe: Sendable, CustomStringConvertible {
    public var ops: [any AugmentationOp]
    public var normalize: Normalize?

    public init(ops: [any AugmentationOp], normalize: Normalize? = Normalize()) {
        (self.ops, self.normalize) = (ops, normalize)
    }

    /// The prior work's recipe (Huang et al. 2021, data.py), in its order: flips, colour jitter,
    /// random resized crop, random affine, random grayscale, normalisation. The default.
    public static let priorWork = Recipe(ops: [
        RandomHorizontalFlip(), RandomVerticalFlip(), ColorJitter(), RandomResizedCrop(), RandomAffine(), RandomGrayscale(),
    ])

    /// The prior work's recipe after a fundus degradation with probability 0.5, so half the views
    /// are low-quality versions of their patch (degradation first: it models the camera, and the
    /// augmentations act on what the camera saw).
    public static let priorWorkDegraded = Recipe(ops: [FundusQualityDegradation()] + priorWork.ops)

    /// The prior work's geometry with a tenth of its colour jitter (0.1 brightness, contrast and
    /// saturation, no hue) and no grayscale: for runs of a few hundred small steps (the demo, the
    /// ablation). Measured (docs/augmentation.md): with the full jitter, 150 steps of batch 32 on
    /// the synthetic set keep every pairing's loss at ln(1 + K_t), i.e. the encoder learns nothing;
    /// with this recipe the loss falls within 15 steps. Colour is what tells synthetic patches
    /// apart, and 0.4 jitter removes it faster than a small network learns shapes.
    public static let smallScale: Recipe = {
        var jitter = ColorJitter()
        (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) = (0.1, 0.1, 0.1, 0)
        return Recipe(ops: [RandomHorizontalFlip(), RandomVerticalFlip(), jitter, RandomResizedCrop(), RandomAffine()])
    }()

    /// The prior work's ops at 64-px views, the resized crop first so the colour ops and the
    /// affine work on the small view: a quarter of the encoder's cost per view and about 0.7 of
    /// the augmenter's. For runs on a few cores (the demo): the method's reference run on our
    /// benchmark kept its effect at 64-px views (docs/method.md).
    public static let smallViews: Recipe = {
        var crop = RandomResizedCrop()
        crop.size = 64
        return Recipe(ops: [crop] + priorWork.ops.filter { !($0 is RandomResizedCrop) })
    }()

    /// Recipes known by name; `default` is the prior work's.
    public static let presets: [(name: String, recipe: Recipe)] = [
        ("prior-work", priorWork), ("prior-work-degraded", priorWorkDegraded), ("small-scale", smallScale), ("small-views", smallViews),
    ]

    /// The presets' names, for help texts and messages.
    public static var presetNames: String { presets.map(\.name).joined(separator: ", ") }

    /// A preset name, or the path of a JSON recipe file.
    public static func load(_ nameOrPath: String) throws -> Recipe {
        if let preset = presets.first(where: { $0.name == nameOrPath }) { return preset.recipe }
        guard let data = FileManager.default.contents(atPath: nameOrPath) else {
            throw Problem("\(nameOrPath): neither a recipe file nor a preset (\(presetNames))")
        }
        do { return try Recipe(json: String(decoding: data, as: UTF8.self)) } catch { throw Problem("\(nameOrPath): \(error)") }
    }

    /// Parses a JSON recipe; an empty text is the default recipe.
    public init(json: String) throws {
        guard !json.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { self = .priorWork; return }
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) } catch {
            throw Problem("not valid JSON (\(Self.reason(error)))")
        }
        guard case .object(var top) = root, case .array(let entries)? = top.removeValue(forKey: "ops") else {
            throw Problem("a recipe is an object with an \"ops\" list: {\"ops\": [{\"op\": \"horizontal-flip\", \"p\": 0.5}, ...]}")
        }
        top.removeValue(forKey: "name")  // a label for people; not used
        if let stray = top.keys.sorted().first {
            throw Problem("unknown key \"\(stray)\" (a recipe has \"ops\" and an optional \"name\")")
        }
        var ops: [any AugmentationOp] = []
        var normalize: Normalize?
        for (position, entry) in entries.enumerated() {
            guard case .object(var values) = entry, case .string(let name)? = values.removeValue(forKey: "op") else {
                throw Problem("op \(position + 1): each op is an object with an \"op\" name, got \(entry.summary)")
            }
            guard normalize == nil else { throw Problem("op \(position + 1) (\(name)): \"normalize\" must be the last op") }
            var parameters = OpParameters(op: name, position: position, values: values)
            if name == Normalize.name {
                normalize = try Self.read(Normalize.self, &parameters)
            } else if let type = AugmentationOps.type(named: name) {
                ops.append(try Self.read(type, &parameters))
            } else {
                throw Problem("op \(position + 1): unknown op \"\(name)\"; known: \(AugmentationOps.names.joined(separator: ", "))")
            }
        }
        self.init(ops: ops, normalize: normalize)
    }

    private static func read<T: RecipeEntry>(_ type: T.Type, _ parameters: inout OpParameters) throws -> T {
        let entry = try T(&parameters)
        try parameters.finish(known: entry.parameters.keys.sorted())
        return entry
    }

    private static func reason(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }

    /// The recipe as JSON with every parameter spelled out; parsing it gives the same recipe.
    public func json(pretty: Bool = false) -> String {
        var entries: [JSONValue] = ops.map { op in
            var values = op.parameters
            values["op"] = .string(type(of: op).name)
            return .object(values)
        }
        if let normalize {
            var values = normalize.parameters
            values["op"] = .string(Normalize.name)
            entries.append(.object(values))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        // Encoding a JSONValue cannot fail: it holds only finite numbers, strings, lists and objects.
        return String(decoding: try! encoder.encode(JSONValue.object(["ops": .array(entries)])), as: UTF8.self)
    }

    public var description: String { json() }

    /// One view of `patch` before normalisation. Its generator comes from (seed, step, item,
    /// view) and nothing else, so any replica computes the same view (docs/architecture.md section 6).
    public func view(of patch: FloatImage, seed: UInt64, step: UInt64, item: UInt64, view: Int) -> FloatImage {
        var g = SeededGenerator(seed: seed, step, item, UInt64(view))
        var image = patch
        for op in ops { op.apply(to: &image, using: &g) }
        return image
    }
}
