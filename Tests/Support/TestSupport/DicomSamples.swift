import Foundation

/// Real DICOM files from PyPI's pydicom-data (among them RG1_J2KR.dcm, a CR chest radiograph in
/// JPEG 2000), installed into `.cache/dicom-venv` by scripts/dicom-venv.sh on first use (which
/// scripts/test.sh runs).
public enum DicomSamples {
    public static let folder: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let python = output(repository.appendingPathComponent("scripts/dicom-venv.sh").path, [])
        let module = output(
            repository.appendingPathComponent(python).path, ["-c", "import data_store, os; print(os.path.dirname(data_store.__file__))"])
        return module + "/data"
    }()

    public static func path(_ name: String) -> String { "\(folder)/\(name)" }

    private static func output(_ executable: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
