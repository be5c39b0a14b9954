import ArgumentParser
import Foundation
import ServiceCommandLine
import Testing

/// The three layers (settings file, COMCL_* environment, flags) on a small command of our own,
/// then parsed by ArgumentParser as the executables do.
@Suite struct LayeredArgumentsTests {
    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tool", subcommands: [Run.self])
    }

    struct Run: ParsableCommand {
        @Option var steps = 10
        @Option var bnGroup = 20
        @Option var lr = 0.001
        @Option var model: [String] = []
        @Flag var resume = false
        @Option var name: String?
        @Option var curveKeyFile: String?
        @Argument var folder: String?
    }

    let file = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-settings-\(UUID().uuidString).yaml")

    func parsed(_ argv: [String], _ environment: [String: String] = [:]) throws -> (Run, LayeredArguments) {
        let layered = try LayeredArguments.resolve(Root.self, argv, environment: environment)
        let command = try Root.parseAsRoot(layered.arguments)
        return (try #require(command as? Run), layered)
    }

    @Test func eachLayerOverridesTheOneBefore() throws {
        defer { try? FileManager.default.removeItem(at: file) }
        try "steps: 30\nbn_group: 8\nlr: 1e-4\nmodel: [a=1, b=2]\nresume: true\nunrelated: 5\n".write(
            to: file, atomically: true, encoding: .utf8)
        let (run, layered) = try parsed(
            ["run", "--config", file.path, "--bn-group", "4", "out"], ["COMCL_STEPS": "40", "COMCL_OTHER": "x"])
        #expect(run.steps == 40 && run.bnGroup == 4 && run.lr == 1e-4 && run.model == ["a=1", "b=2"] && run.resume && run.folder == "out")
        #expect(layered.unused == ["unrelated"])
        let sources = Dictionary(uniqueKeysWithValues: layered.settings.map { ($0.name, $0.source) })
        #expect(sources["steps"] == .environment && sources["bn-group"] == .flag && sources["lr"] == .file && sources["name"] == .default)
        // A repeatable option given as a flag replaces the file's list instead of joining it.
        let (flagged, _) = try parsed(["run", "--config", file.path, "--model", "c=3"])
        #expect(flagged.model == ["c=3"])
        // JSON is YAML too; a false flag stays off.
        try #"{"steps": 5, "resume": false, "bnGroup": 2}"#.write(to: file, atomically: true, encoding: .utf8)
        let (json, _) = try parsed(["run", "--config=\(file.path)"])
        #expect(json.steps == 5 && json.bnGroup == 2 && !json.resume)
    }

    /// Variables an option reads itself, with its own meaning, are not taken as the option's layer
    /// (a CURVE compose file gives the coordinator COMCL_CURVE_KEY_FILE for its status client).
    @Test func variablesTheOptionsReadThemselvesAreLeftToThem() throws {
        let (run, layered) = try parsed(["run"], ["COMCL_CURVE_KEY_FILE": "/keys/status.key", "COMCL_NAME": "n"])
        #expect(run.curveKeyFile == nil && run.name == "n")
        #expect(layered.settings.first { $0.name == "curve-key-file" }?.source == .default)
    }

    @Test func theSavedSettingsReadBackAsAFile() throws {
        defer { try? FileManager.default.removeItem(at: file) }
        let (_, first) = try parsed(["run", "--steps", "12", "--model", "x=1", "--model", "y=2"], ["COMCL_LR": "0.5"])
        try first.yaml().write(to: file, atomically: true, encoding: .utf8)
        let (again, second) = try parsed(["run", "--config", file.path])
        #expect(again.steps == 12 && again.lr == 0.5 && again.model == ["x=1", "y=2"] && again.name == nil && !again.resume)
        #expect(second.settings.map(\.values) == first.settings.map(\.values))
    }

    @Test func badFilesAreOneSentence() throws {
        defer { try? FileManager.default.removeItem(at: file) }
        #expect { _ = try parsed(["run", "--config", "/nonexistent.yaml"]) } throws: { "\($0)".contains("cannot read it") }
        try "- just\n- a list\n".write(to: file, atomically: true, encoding: .utf8)
        #expect { _ = try parsed(["run", "--config", file.path]) } throws: { "\($0)".contains("give a mapping of settings") }
        try "steps: [unclosed\n".write(to: file, atomically: true, encoding: .utf8)
        #expect { _ = try parsed(["run", "--config", file.path]) } throws: { "\($0)".contains("not YAML or JSON") }
        // A wrong value is ArgumentParser's own message, whichever layer gave it.
        #expect(throws: (any Error).self) { _ = try parsed(["run"], ["COMCL_STEPS": "many"]) }
    }
}
