import Datasets
import Encoder
import Foundation
import Images
import Wire

/// One decoder under fuzzing: valid seed inputs, and what to do with an input. A thrown error is
/// the decoder refusing bad input (what we want); a crash or a hang is a defect.
public struct FuzzTarget: Sendable {
    public let name: String
    /// File extensions whose files in a `--corpus` folder join the seeds.
    public let extensions: [String]
    public var seeds: [[UInt8]]
    public let run: @Sendable ([UInt8]) throws -> Void

    /// Images past this are refused before decoding: keeps each input fast (the production limit
    /// is ImageDecoder.defaultMaxPixels; the refusal path is the same).
    static let maxPixels = 1 << 20

    /// Every network-facing decoder (one envelope per message kind: Envelope.decode validates the
    /// body of whichever kind it holds) and every file decoder.
    public static func all() throws -> [FuzzTarget] {
        [
            FuzzTarget(
                name: "envelope", extensions: ["pb"], seeds: try WireSamples.all().map { Envelope(sender: "fuzz", body: $0).encoded() }
            ) { bytes in
                let envelope = try Envelope.decode(bytes)
                _ = envelope.encoded()  // whatever decodes must encode again
            },
            FuzzTarget(name: "png", extensions: ["png"], seeds: try sampleImages().map(PNGEncoder.encode)) { bytes in
                _ = try ImageDecoder.decodePNG(bytes, maxPixels: maxPixels)
            },
            FuzzTarget(
                name: "jpeg", extensions: ["jpg", "jpeg"],
                seeds: try sampleImages().flatMap { [try JPEGEncoder.encode($0, quality: 90), try JPEGEncoder.encode($0, quality: 30)] }
            ) {
                bytes in _ = try ImageDecoder.decodeJPEG(bytes, maxPixels: maxPixels)
            },
            manifest("eyeq-csv", .eyeq, ",image,quality,DR_grade\n0,a.png,0,0\n1,b.png,1,3\n2,\"c,d.png\",2,4\n"),
            manifest("generic-csv", .generic, "path,labels,quality\na.png,healthy,high\nb.png,\"drusen|exudate\",low\nc.png,normal,0\n"),
            manifest(
                "chestxray-csv", .chestxray,
                "Image Index,Finding Labels,Follow-up #\n00001.png,No Finding,0\n00002.png,Effusion|Mass,1\n00003.png,Nodule,0\n",
                quality: "Image Index,quality\n00001.png,0\n00002.png,low\n00003.png,2\n"),
            FuzzTarget(
                name: "lesion-boxes-csv", extensions: [],
                seeds: [Array("image,x,y,w,h,score,class\na.png,1,2,30.5,4,0.9,microaneurysm\nb.png,0,0,1,1,1,exudate\n".utf8)]
            ) { bytes in
                _ = try LesionBoxFile.parse(Data(bytes), path: "fuzz.csv")
            },
            FuzzTarget(
                name: "lesion-boxes-json", extensions: ["json"],
                seeds: [
                    Array(
                        #"[{"image":"a.png","x":1,"y":2,"w":3.5,"h":4,"score":0.5,"class":"hemorrhage"},{"image":"b.png","x":0,"y":0,"w":1,"h":1,"score":1}]"#
                            .utf8)
                ]
            ) { bytes in
                _ = try LesionBoxFile.parse(Data(bytes), path: "fuzz.json")
            },
            FuzzTarget(
                name: "safetensors", extensions: ["safetensors"],
                seeds: [sampleSafeTensors(metadata: true), sampleSafeTensors(metadata: false)]
            ) { bytes in
                let file = try SafeTensors(data: Data(bytes))
                for name in file.names { _ = try? file.floats(name) }
            },
            FuzzTarget(
                name: "npy", extensions: ["npy"],
                seeds: [Array([Float(1.5), -2, 0, 3.25, 9, 7].withUnsafeBufferPointer { NumPyFile.encode(float32: $0, shape: [2, 3]) })]
            ) { bytes in
                // The two readers (float32 arrays, integer arrays) share the header parser.
                do { _ = try NumPyFile.readFloat32(Data(bytes)) } catch { _ = try NumPyFile.readIntegers(Data(bytes)) }
            },
        ]
    }

    /// A label-file target: the bytes are the label CSV (ChestX-ray14's quality table is fixed).
    static func manifest(_ name: String, _ format: ManifestFormat, _ seed: String, quality: String? = nil) -> FuzzTarget {
        var options = ManifestOptions(format: format, labels: "fuzz.csv", images: "/nonexistent", skipBad: true)
        options.checkFiles = false
        let qualityTable = quality.map { try! CSVTable(text: $0, path: "quality.csv") }
        return FuzzTarget(name: name, extensions: ["csv"], seeds: [Array(seed.utf8)]) { [options] bytes in
            _ = try Manifest.parse(try CSVTable(data: Data(bytes), path: "fuzz.csv"), quality: qualityTable, options)
        }
    }

    /// Small images of several shapes and contents (flat, gradient, noise) to encode as seeds.
    static func sampleImages() throws -> [RGBImage] {
        try [(1, 1), (17, 5), (32, 24)].enumerated().map { (index, size) in
            let (w, h) = size
            return try RGBImage(
                width: w, height: h,
                pixels: (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: index == 2 ? $0 &* 2_654_435_761 >> 13 : $0 * (index + 1)) })
        }
    }

    static func sampleSafeTensors(metadata: Bool) -> [UInt8] {
        var writer = SafeTensorsWriter()
        if metadata { writer.metadata = ["format": "pt", "comcl": "fuzz"] }
        writer.add("conv1.weight", floats: (0..<24).map { Float($0) * 0.5 }, shape: [2, 3, 2, 2])
        writer.add("bn1.num_batches_tracked", integers: [7], shape: [])
        return Array(writer.data())
    }
}

extension FuzzTarget {
    /// The target with the files of `folder` (recursively) whose extension it takes added to its
    /// seeds (e.g. PngSuite for png, the JPEG fixtures for jpeg).
    public func addingSeeds(from folder: URL) throws -> FuzzTarget {
        var copy = self
        guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return copy }
        for case let file as URL in files where extensions.contains(file.pathExtension.lowercased()) {
            copy.seeds.append(Array(try Data(contentsOf: file)))
        }
        return copy
    }
}
