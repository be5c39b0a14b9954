import Foundation

/// The Python interpreter with PyTorch 2.13 and torchvision the PyTorch-comparison tests run:
/// `COMCL_TORCH_PYTHON`, else the repository's `.cache/torch-venv` (scripts/torch-venv.sh, which
/// scripts/test.sh runs), else Debian's python3 if it has torch. nil when none imports torch.
public enum TorchPython {
    /// The repository's root (this file is Tests/Support/TestSupport/TorchPython.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    public static let path: String? = {
        let given: [String] = ProcessInfo.processInfo.environment["COMCL_TORCH_PYTHON"].map { [$0] } ?? []
        let candidates = given + [repository.appendingPathComponent(".cache/torch-venv/bin/python").path, "/usr/bin/python3"]
        return candidates.first { imports($0) }
    }()

    public static var available: Bool { path != nil }

    private static func imports(_ python: String) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import torch, numpy"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Examples/pytorch-worker on one CPU thread, with the protocol classes scripts/python-examples.sh
    /// generates, and `arguments` (--coordinator and the rest).
    public static func pytorchWorker(_ arguments: [String], name: String) throws -> ChildProcess {
        try ChildProcess(
            executable: URL(fileURLWithPath: path!),
            [
                repository.appendingPathComponent("Examples/pytorch-worker/worker.py").path, "--threads", "1", "--proto-dir",
                repository.appendingPathComponent(".cache/python-examples/gen").path,
            ] + arguments, name: name)
    }

    /// Runs a script; its exit status and its output (stdout and stderr together).
    public static func run(_ arguments: [String]) throws -> (Int32, String) {
        guard let path else { return (-1, "no Python with torch") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, log)
    }
}
