// swift-tools-version:6.0
// CoMCL-Swift: five services over ZeroMQ + protobuf-c, a `comcl` front end, shared libraries.
import PackageDescription

/// A C library from Debian's -dev package, found through pkg-config.
func system(_ name: String, _ pkg: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Shared/\(name)", pkgConfig: pkg, providers: [.apt([apt])])
}

/// An executable service: a thin `main` over a Shared module.
func service(_ name: String, folder: String, deps: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name, dependencies: deps + [.product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Services/\(folder)")
}

let serviceDeps: [Target.Dependency] = ["ServiceCommandLine", "ServiceKit", "Transport", "Wire"]

let package = Package(
    name: "comcl-swift",
    products: [
        .executable(name: "comcl", targets: ["comcl"]),
        .executable(name: "comcl-detector-cropper", targets: ["comcl-detector-cropper"]),
        .executable(name: "comcl-augmenter", targets: ["comcl-augmenter"]),
        .executable(name: "comcl-embedding-worker", targets: ["comcl-embedding-worker"]),
        .executable(name: "comcl-coordinator", targets: ["comcl-coordinator"]),
        .executable(name: "comcl-evaluator", targets: ["comcl-evaluator"]),
        .executable(name: "comcl-dicom-decoder", targets: ["comcl-dicom-decoder"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "Images", targets: ["Images"]),
        .library(name: "Encoder", targets: ["Encoder"]),
        .library(name: "Datasets", targets: ["Datasets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries (Debian -dev packages).
        system("CZeroMQ", "libzmq", apt: "libzmq3-dev"),
        system("CProtobufC", "libprotobuf-c", apt: "libprotobuf-c-dev"),
        system("COpenBLAS", "openblas", apt: "libopenblas-dev"),
        system("CPNG", "libpng", apt: "libpng-dev"),
        system("CTurboJPEG", "libturbojpeg", apt: "libturbojpeg0-dev"),
        system("CCairo", "cairo", apt: "libcairo2-dev"),
        // oneDNN (the convolutions) and its OpenMP runtime; Debian ships no pkg-config file for it.
        .systemLibrary(name: "CDNNL", path: "Shared/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // glibc's mallopt (ServiceKit's HeapTuning); part of libc, nothing to link.
        .systemLibrary(name: "CMalloc", path: "Shared/CMalloc"),
        // prctl (variadic in C) for LauncherWatch; part of libc, nothing to link.
        .systemLibrary(name: "CProcess", path: "Shared/CProcess"),
        // protoc-c output for Shared/Protocol/comcl.proto (committed; see scripts/generate-protocol.sh).
        .target(name: "CProtocol", dependencies: ["CProtobufC"], path: "Shared/CProtocol"),
        // The machine's fp32 peak by a timed FMA loop (comcl bench encoder's "% of peak").
        .target(name: "CPeakFLOPS", path: "Shared/CPeakFLOPS"),
        // The encoder's memory-bound loops (batch norm, pooling, Adam), vectorised per CPU.
        .target(name: "CEngineKernels", path: "Shared/CEngineKernels"),
        // libpng's setjmp/longjmp error path, contained in C.
        .target(name: "CImageCodec", dependencies: ["CPNG"], path: "Shared/CImageCodec"),
        // GDCM (C++; Debian's libgdcm-dev ships no pkg-config file) behind a C function: DICOM in
        // every transfer syntax GDCM decodes. Its headers are included by their gdcm-3.0/ path.
        .target(
            name: "CDicomCodec", path: "Shared/CDicomCodec",
            linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmCommon"), .linkedLibrary("m")]),
        // GDCM in a process of its own (Images' DicomDecoder runs it per file): a damaged DICOM
        // can abort GDCM, and that must cost one image, not the service decoding it.
        .executableTarget(name: "comcl-dicom-decoder", dependencies: ["CDicomCodec"], path: "Services/DicomDecoder"),

        // Swift libraries.
        // The domain's words (the four levels, image quality) that no infrastructure owns.
        .target(name: "Domain", path: "Shared/Domain"),
        .target(name: "Wire", dependencies: ["Basics", "CProtocol", "CProtobufC", "Domain"], path: "Shared/Wire"),
        .target(
            name: "Transport",
            dependencies: ["CZeroMQ", "Wire", .product(name: "Logging", package: "swift-log")],
            path: "Shared/Transport"),
        .target(name: "Images", dependencies: ["Basics", "CImageCodec", "CTurboJPEG"], path: "Shared/Images"),
        // Seeded generators and atomic files: what every other module builds on.
        .target(name: "Basics", path: "Shared/Basics"),
        // Float images, blur and the fundus degradation model (synthetic data and the augmenter).
        .target(name: "ImageOps", dependencies: ["Basics", "Images"], path: "Shared/ImageOps"),
        // Label files (EyeQ, ChestX-ray14, generic), the four levels, lesion-box files.
        .target(name: "Datasets", dependencies: ["Basics", "Domain"], path: "Shared/Datasets"),
        // Lesion detectors (built-in classical, boxes file, remote) and detection metrics.
        .target(name: "Detection", dependencies: ["Basics", "Datasets", "ImageOps", "Images"], path: "Shared/Detection"),
        // A detector in another process, over ZeroMQ (the detector/cropper's --detector remote:).
        .target(
            name: "RemoteDetection", dependencies: ["Datasets", "Detection", "Images", "Transport", "Wire"], path: "Shared/RemoteDetection"),
        // The detector/cropper's work: Omega and RandC patches, the detection cache.
        .target(
            name: "Cropping",
            dependencies: [
                "Basics", "Datasets", "Detection", "ImageOps", "Images", "Wire", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Cropping"),
        // The augmenter's work: seeded two-view augmentation recipes (torchvision parity).
        .target(name: "Augmentation", dependencies: ["Basics", "ImageOps", "Images", "Wire"], path: "Shared/Augmentation"),
        // The multi-level contrastive loss with self-paced hard negatives (docs/method.md sections 3-4).
        .target(name: "Contrastive", dependencies: ["Basics", "Domain"], path: "Shared/Contrastive"),
        // Diagnosis scores: accuracy, (quadratic) kappa, ROC AUC; predictions vs truth CSVs.
        .target(name: "Metrics", dependencies: ["Datasets"], path: "Shared/Metrics"),
        .target(name: "TensorBoard", path: "Shared/TensorBoard"),
        // Charts as PNG through Cairo: line charts, confusion matrices, scatter plots.
        .target(name: "Plots", dependencies: ["Basics", "CCairo"], path: "Shared/Plots"),
        // Diagnosis on top of an encoder: splits, linear probe / fine-tune, the low-quality sweep.
        .target(
            name: "Evaluation",
            dependencies: [
                "Basics", "Cropping", "Datasets", "Degradation", "Detection", "Domain", "Encoder", "ImageOps", "Images", "Metrics", "Plots",
                "Wire",
            ],
            path: "Shared/Evaluation"),
        // The synthetic fundus benchmark (`comcl synth`).
        .target(name: "Synthetic", dependencies: ["Basics", "Datasets", "ImageOps", "Images"], path: "Shared/Synthetic"),
        // A dataset's low-quality share raised by degrading its images, by modality (`comcl degrade`,
        // the evaluator's sweep).
        .target(name: "Degradation", dependencies: ["Basics", "Datasets", "ImageOps", "Images"], path: "Shared/Degradation"),
        // The ResNet encoder: layers, models, optimizers, checkpoints; convolutions on oneDNN, heads on OpenBLAS.
        .target(name: "Encoder", dependencies: ["Basics", "CDNNL", "CEngineKernels", "COpenBLAS"], path: "Shared/Encoder"),
        // Seeded mutation fuzzing of every network and file decoder (README, Reliability).
        .target(name: "Fuzzing", dependencies: ["Basics", "Datasets", "Encoder", "Images", "Wire"], path: "Shared/Fuzzing"),
        // The data-parallel training step: planner, patch pipeline, replicas, optimizer, checkpoints.
        .target(
            name: "Training",
            dependencies: [
                "Augmentation", "Basics", "Contrastive", "Coordination", "Domain", "Encoder", "TensorBoard", "Transport", "Wire",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Training"),
        .target(
            name: "Coordination",
            dependencies: ["Transport", "Wire", "ServiceKit", .product(name: "Logging", package: "swift-log")],
            path: "Shared/Coordination"),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Basics", "CMalloc", "CProcess", "Datasets", "Transport", "Wire",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/ServiceKit"),
        // The command line's option groups, shared by the executables (the CLI layer; no library
        // below it knows of flags).
        .target(
            name: "ServiceCommandLine",
            dependencies: [
                "Augmentation", "Datasets", "Encoder", "ServiceKit", "Training", "Transport", "Wire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/CommandLine"),

        // Every service as a local process: start, supervise, stop; what a launch checks first and
        // what its console shows (`comcl train`, `demo`, `ablation`, `soak`; tests may use it too).
        .target(
            name: "Launcher",
            dependencies: ["Basics", "Coordination", "Datasets", "ServiceKit", "Training"],
            path: "Shared/Launcher"),

        // Services (one executable each) and the front end.
        service("comcl-detector-cropper", folder: "DetectorCropper", deps: serviceDeps + ["Cropping", "Detection", "RemoteDetection"]),
        service("comcl-augmenter", folder: "Augmenter", deps: serviceDeps + ["Augmentation"]),
        service(
            "comcl-embedding-worker", folder: "EmbeddingWorker",
            deps: serviceDeps + ["Encoder", "Training", .product(name: "Logging", package: "swift-log")]),
        service(
            "comcl-coordinator", folder: "Coordinator",
            deps: serviceDeps + ["Augmentation", "Basics", "Contrastive", "Coordination", "Datasets", "Encoder", "Evaluation", "Training"]),
        service(
            "comcl-evaluator", folder: "Evaluator",
            deps: serviceDeps + ["Encoder", "Evaluation", .product(name: "Logging", package: "swift-log")]),
        service(
            "comcl", folder: "ComclCLI",
            deps: serviceDeps + [
                "Basics", "Degradation", "Domain", "Images", "Launcher", "Coordination", "Encoder", "COpenBLAS", "Datasets", "Synthetic",
                "ImageOps",
                "Detection", "Augmentation", "Cropping", "Contrastive", "Training", "Metrics", "Evaluation", "Fuzzing", "CPeakFLOPS",
            ]),

        // A generic worker process for transport integration tests (answers, stalls or dies on cue).
        .executableTarget(
            name: "comcl-transport-probe",
            dependencies: [
                "ServiceCommandLine", "ServiceKit", "Transport", "Wire", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/Support/TransportProbe"),

        // Helpers shared by the test targets: locate built products, run child processes.
        .target(name: "TestSupport", path: "Tests/Support/TestSupport"),

        .testTarget(name: "WireTests", dependencies: ["Wire", "CProtocol", "Fuzzing"], path: "Tests/WireTests"),
        .testTarget(name: "LauncherTests", dependencies: ["Launcher", "Training"], path: "Tests/LauncherTests"),
        .testTarget(name: "FuzzingTests", dependencies: ["Fuzzing"], path: "Tests/FuzzingTests"),
        .testTarget(name: "ServiceKitTests", dependencies: ["ServiceKit"], path: "Tests/ServiceKitTests"),
        .testTarget(
            name: "ServiceCommandLineTests",
            dependencies: ["ServiceCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/ServiceCommandLineTests"),
        .testTarget(
            name: "TransportTests",
            dependencies: [
                "Transport", "Wire", "ServiceKit", "TestSupport", "comcl-transport-probe", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TransportTests"),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "TestSupport", "comcl-dicom-decoder"], path: "Tests/ImagesTests"),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Wire"], path: "Tests/DatasetsTests"),
        .testTarget(
            name: "DetectionTests", dependencies: ["Datasets", "Detection", "ImageOps", "Images", "Synthetic"], path: "Tests/DetectionTests"
        ),
        .testTarget(
            name: "CroppingTests",
            dependencies: [
                "Basics", "Cropping", "Datasets", "Detection", "ImageOps", "Images", "RemoteDetection", "Synthetic", "Transport", "Wire",
                "TestSupport",
                "comcl-detector-cropper",
            ],
            path: "Tests/CroppingTests"),
        .testTarget(
            name: "AugmentationTests",
            dependencies: [
                "Augmentation", "Basics", "Domain", "Encoder", "ImageOps", "Images", "Synthetic", "Transport", "Wire", "TestSupport",
                "comcl-augmenter",
            ],
            path: "Tests/AugmentationTests"),
        .testTarget(
            name: "ContrastiveTests", dependencies: ["Basics", "Contrastive", "Domain", "Encoder", "Wire"], path: "Tests/ContrastiveTests"),
        .testTarget(
            name: "SyntheticTests", dependencies: ["Basics", "Datasets", "Degradation", "ImageOps", "Images", "Synthetic"],
            path: "Tests/SyntheticTests"),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Basics", "Contrastive", "Datasets", "Domain", "Encoder", "Training", "Transport", "Wire", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ], path: "Tests/TrainingTests"),
        .testTarget(name: "MetricsTests", dependencies: ["Datasets", "Metrics"], path: "Tests/MetricsTests"),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard"], path: "Tests/TensorBoardTests"),
        .testTarget(
            name: "EvaluationTests", dependencies: ["Datasets", "Domain", "Encoder", "Evaluation", "Metrics", "Synthetic", "Wire"],
            path: "Tests/EvaluationTests"),
        .testTarget(name: "EncoderTests", dependencies: ["Basics", "CDNNL", "Encoder", "TestSupport"], path: "Tests/EncoderTests"),
        .testTarget(
            name: "ServicesTests",
            dependencies: [
                "TestSupport", "Basics", "Encoder", "Images", "Launcher", "Transport", "Wire", "comcl", "comcl-detector-cropper",
                "comcl-augmenter",
                "comcl-embedding-worker",
                "comcl-coordinator", "comcl-evaluator",
            ],
            path: "Tests/ServicesTests"),
    ]
)
