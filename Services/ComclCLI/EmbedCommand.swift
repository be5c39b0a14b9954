import ArgumentParser
import Encoder
import Foundation
import Images

/// `comcl embed`: pooled backbone features of a folder of images, as an (N, D) float32 .npy.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract:
            "Write the pooled backbone features (before any head) of every PNG/JPEG in a folder, in sorted file-name order, to an (N, D) float32 .npy."
    )

    @Option(help: "Weights (safetensors, torchvision names; any fc/projection head is ignored).") var weights: String
    @Option(help: "Architecture: \(ResNetArch.allCases.map(\.rawValue).joined(separator: ", ")).") var arch: String
    @Option(help: "Width multiplier the weights were trained with.") var width = 1.0
    @Option(help: "Folder of .png / .jpg / .jpeg images.") var input: String
    @Option(help: "Output .npy file.") var output: String
    @Option(help: "Per-channel mean, R,G,B (default ImageNet's, torchvision).") var mean = "0.485,0.456,0.406"
    @Option(help: "Per-channel std, R,G,B (default ImageNet's, torchvision).") var std = "0.229,0.224,0.225"
    @Option(help: "Images per forward pass (consecutive images of one size share a pass).") var batch = 16
    @Option(help: "Threads for the encoder (oneDNN and our loops).") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard ResNetArch(rawValue: arch) != nil else {
            throw ValidationError("unknown --arch '\(arch)'; known: \(ResNetArch.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let problem = ModelConfig.widthProblem(width) { throw ValidationError("--\(problem)") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        _ = try triple(mean, "--mean")
        let s = try triple(std, "--std")
        guard s.allSatisfy({ $0 > 0 }) else { throw ValidationError("--std values must be positive") }
    }

    func triple(_ text: String, _ name: String) throws -> [Float] {
        let v = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == 3 else { throw ValidationError("\(name) wants three comma-separated numbers, got '\(text)'") }
        return v
    }

    func run() throws {
        let blas = BLASCore.select()
        EngineThreads.set(threads)
        let files = try imageFiles()
        let model = EncoderModel(ModelConfig(arch: ResNetArch(rawValue: arch)!, width: width))
        do {
            try ModelState.load(contentsOf: URL(fileURLWithPath: weights), into: model, scope: .backbone)
        } catch {
            throw ValidationError("\(weights): \(error)")
        }
        model.training = false
        let norm = Normalization(mean: try triple(mean, "--mean"), std: try triple(std, "--std"))
        let d = model.backbone.featureDimension
        FileHandle.standardError.write(Data("embedding \(files.count) images with \(arch) width \(width) (\(d)-d); \(blas)\n".utf8))

        var features = [Float]()
        features.reserveCapacity(files.count * d)
        var pending: [RGBImage] = []
        func flush() {
            guard let first = pending.first else { return }
            let x = Tensor4(shape: Shape4(n: pending.count, h: first.height, w: first.width, c: 3))
            for (i, image) in pending.enumerated() { norm.write(rgb: image.pixels, into: x, index: i) }
            features += model.forward(x).values
            pending.removeAll()
        }
        for file in files {
            let image: RGBImage
            do { image = try ImageDecoder.decode(contentsOf: file.path) } catch {
                throw ValidationError("\(file.path): \(error)")
            }
            // The stem and three stride-2 stages need at least 32 px a side to leave a 1x1 map.
            guard image.width >= 32 && image.height >= 32 else {
                throw ValidationError("\(file.path): \(image.width)x\(image.height) is smaller than the 32x32 a ResNet needs")
            }
            if let first = pending.first, first.width != image.width || first.height != image.height || pending.count == batch { flush() }
            pending.append(image)
        }
        flush()
        try NumPyFile.write(float32: features, shape: [files.count, d], to: URL(fileURLWithPath: output))
        print("\(output): \(files.count) x \(d) float32")
    }

    func imageFiles() throws -> [URL] {
        let dir = URL(fileURLWithPath: input, isDirectory: true)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir.path) } catch {
            throw ValidationError("cannot list --input \(input): \(error.localizedDescription)")
        }
        let images = names.filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        guard !images.isEmpty else { throw ValidationError("no .png/.jpg/.jpeg files in \(input)") }
        return images.map { dir.appendingPathComponent($0) }
    }
}
