import ArgumentParser
import Datasets

/// How every dataset-reading command is told where a dataset is.
public struct DatasetOptions: ParsableArguments {
    @Option(help: "Label file: EyeQ's CSV, ChestX-ray14's Data_Entry_2017.csv, or a generic path,labels,quality CSV.")
    public var labels: String

    @Option(help: "Format of the label file: \(ManifestFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    public var format: ManifestFormat = .eyeq

    @Option(help: "Folder the image paths are relative to (default: images/ beside the label file, else its folder).")
    public var images: String?

    @Option(help: "ChestX-ray14: CSV with columns \"Image Index\" and quality (0/good/high or 1,2/usable/reject/low).")
    public var quality: String?

    @Flag(help: "Leave out bad rows (missing image, unknown label, malformed line) and count them, instead of stopping.")
    public var skipBad = false

    public init() {}

    public func load() throws -> Manifest {
        let options = ManifestOptions(format: format, labels: labels, images: images, quality: quality, skipBad: skipBad)
        do {
            return try Manifest.load(options)
        } catch let error as DatasetError {
            throw ValidationError("\(error)" + (skipBad ? "" : "\n(--skip-bad leaves such rows out and counts them)"))
        }
    }
}

extension ManifestFormat: ExpressibleByArgument {}
