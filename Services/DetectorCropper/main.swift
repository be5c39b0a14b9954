import ArgumentParser
import Cropping
import Detection
import RemoteDetection
import Foundation
import ServiceCommandLine
import ServiceKit
import Transport
import Wire

/// comcl-detector-cropper: a worker service connected to the coordinator's detectorCropper link.
/// With a data endpoint (the default) it keeps each patch and tells the coordinator where it is;
/// the augmenter that makes its views fetches it there.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comcl-detector-cropper",
        abstract: "The detector/cropper: finds lesion boxes and cuts 128x128 patches (docs/method.md section 2).")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var data: DataPlaneOptions

    @Option(help: "Folder that the image paths of patch requests are relative to.")
    var dataRoot: String

    @Option(
        help:
            "Lesion detector: builtin (the classical one), boxes:FILE (an outside tool's boxes, image,x,y,w,h,score,class as CSV or a JSON array), or remote:ENDPOINT (a process answering DetectRequest over ZeroMQ REQ/REP)."
    )
    var detector = "builtin"

    @Option(help: "remote detector: seconds to wait for each answer before retrying.")
    var detectorTimeout = 30.0

    @Option(help: "remote detector: tries before a patch request fails (Lazy Pirate).")
    var detectorTries = 3

    @Option(help: "Folder of cached detections (one file per detector and image content); shared by replicas.")
    var cache = "runs/detection-cache"

    @Option(help: "Boxes with confidence above this are lesions (prior work: 0.5).")
    var conf = 0.5

    @Option(help: "Shrink images so the shorter side is at most this before detecting and cutting (prior work: 512; 0 = native).")
    var imageSide = 512

    @Option(help: "Random crops of healthy images need at least this share of field-of-view pixels.")
    var minField = 0.8

    @Option(help: "Decoded images (and their boxes) kept in memory between patches, in MB; 0: decode every time.")
    var memoryMb = 512

    func validate() throws {
        guard (0...1).contains(conf) else { throw ValidationError("--conf must lie in [0, 1]") }
        guard (0...1).contains(minField) else { throw ValidationError("--min-field must lie in [0, 1]") }
        guard (0...1 << 20).contains(memoryMb) else { throw ValidationError("--memory-mb must lie in 0...1048576") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataRoot, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data-root \(dataRoot) is not a folder")
        }
    }

    func makeDetector() throws -> any LesionDetector {
        if detector == "builtin" { return ClassicalDetector() }
        if detector.hasPrefix("boxes:") {
            do { return try BoxesFileDetector(path: String(detector.dropFirst(6))) } catch {
                throw ValidationError("--detector \(detector): \(error)")
            }
        }
        if detector.hasPrefix("remote:") {
            return RemoteDetector(endpoint: String(detector.dropFirst(7)), timeout: detectorTimeout, tries: detectorTries)
        }
        throw ValidationError("unknown --detector \(detector): builtin, boxes:FILE or remote:ENDPOINT")
    }

    func run() throws {
        let lesionDetector = try makeDetector()
        var cutter = PatchCutter()
        (cutter.confidence, cutter.minimumField) = (conf, minField)
        let cropper = Cropper(
            dataRoot: URL(fileURLWithPath: dataRoot), detector: lesionDetector,
            cache: DetectionCache(folder: URL(fileURLWithPath: cache), detectorIdentity: lesionDetector.identity), cutter: cutter,
            imageSide: imageSide, memoryBytes: memoryMb << 20)
        var settings = try options.settings(service: "comcl-detector-cropper")
        let kept = KeptPatches()
        let (server, note) = try data.start(
            coordinator: options.coordinator, settings: &settings, patches: kept, logger: .init(label: "comcl.comcl-detector-cropper"))
        defer { server?.stop() }
        let banner = [
            "detector: \(lesionDetector.identity)", "data root: \(dataRoot), detection cache: \(cache), image memory: \(memoryMb) MB", note,
        ]
        let endpoint = settings.dataEndpoint
        let code = WorkerService.run(service: "comcl-detector-cropper", role: .detectorCropper, settings: settings, banner: banner) {
            request in
            guard case .patchRequest(let patchRequest) = request.body else {
                throw WorkFailure(code: .unsupported, "the detector/cropper answers PatchRequest, not \(request.body.kind)")
            }
            let patch = try cropper.handle(patchRequest)
            guard !endpoint.isEmpty else { return .patch(patch) }
            kept.put(patch, id: patch.id, keepFromStep: patchRequest.keepFromStep)
            return .patchStored(PatchStored(id: patch.id, level: patch.level, provenance: patch.provenance, endpoint: endpoint))
        }
        if code != 0 { throw ExitCode(code) }
    }
}

WorkerCommand.main(LayeredArguments.forProcess(WorkerCommand.self))
