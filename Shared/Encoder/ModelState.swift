import Basics
import Foundation

/// Why weights could not be loaded into a model: names and shapes, so the user can see which
/// checkpoint does not fit which architecture.
public enum ModelStateError: Error, CustomStringConvertible, Equatable {
    case missing([String])
    case unexpected([String])
    case shape(name: String, model: [Int], file: [Int])
    case file(String)

    public var description: String {
        switch self {
        case let .missing(names): "checkpoint lacks \(names.count) tensor(s) the model needs: \(Self.list(names))"
        case let .unexpected(names): "checkpoint has \(names.count) tensor(s) the model does not: \(Self.list(names))"
        case let .shape(name, model, file):
            "tensor '\(name)' has shape \(file) in the checkpoint, the model needs \(model) (another arch or width?)"
        case let .file(why): why
        }
    }

    static func list(_ names: [String]) -> String {
        names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ..." : "")
    }
}

/// A model's state dict as safetensors, with torchvision's names and layouts (conv weights
/// [out, in, kh, kw], `num_batches_tracked` int64), so PyTorch loads it with
/// `load_state_dict(strict=True)` and torchvision's weights load here.
public enum ModelState {
    /// Which tensors must match.
    public enum Scope: Sendable {
        /// Every tensor, both ways (PyTorch's strict=True).
        case all
        /// The backbone only: `fc.*` is ignored on both sides, so a pre-trained encoder (with a
        /// projection head) initialises a classifier, and torchvision's ImageNet weights (1000-way
        /// `fc`) load into a bare backbone.
        case backbone
    }

    public static func encode(_ model: any StateHolder, metadata: [String: String] = [:]) -> Data {
        var writer = SafeTensorsWriter()
        writer.metadata = metadata.merging(["format": "pt"]) { a, _ in a }
        for (name, tensor) in model.state(prefix: "") {
            switch tensor {
            case let .parameter(p): writer.add(name, floats: p.torchValues(), shape: p.shape)
            case let .counter(c): writer.add(name, integers: [c.value], shape: [])
            }
        }
        return writer.data()
    }

    public static func save(_ model: any StateHolder, to url: URL, metadata: [String: String] = [:]) throws {
        try AtomicFile.write(encode(model, metadata: metadata), to: url)
    }

    public static func load(_ file: SafeTensors, into model: any StateHolder, scope: Scope = .all) throws {
        func inScope(_ name: String) -> Bool { scope == .all || !(name == "fc" || name.hasPrefix("fc.")) }
        let state = model.state(prefix: "").filter { inScope($0.0) }
        let wanted = Set(state.map(\.0))
        let missing = state.map(\.0).filter { file.entries[$0] == nil }
        if !missing.isEmpty { throw ModelStateError.missing(missing) }
        let unexpected = file.names.filter { inScope($0) && !wanted.contains($0) }
        if !unexpected.isEmpty { throw ModelStateError.unexpected(unexpected) }
        // Check every shape before changing anything, so a failed load leaves the model as it was.
        for (name, tensor) in state {
            let e = try file.entry(name)
            switch tensor {
            case let .parameter(p):
                if e.shape != p.shape { throw ModelStateError.shape(name: name, model: p.shape, file: e.shape) }
            case .counter:
                if e.count != 1 { throw ModelStateError.shape(name: name, model: [], file: e.shape) }
            }
        }
        for (name, tensor) in state {
            switch tensor {
            case let .parameter(p): p.setTorchValues(try file.floats(name))
            case let .counter(c): c.value = try file.integers(name)[0]
            }
        }
    }

    public static func load(contentsOf url: URL, into model: any StateHolder, scope: Scope = .all) throws {
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch let e as SafeTensorsError {
            throw ModelStateError.file("\(url.path): \(e)")
        } catch {
            throw ModelStateError.file("cannot read \(url.path): \(error.localizedDescription)")
        }
        try load(file, into: model, scope: scope)
    }
}
