import ArgumentParser
import Foundation
import ServiceKit
import Yams

/// One configuration for every command and service, in three layers, each overriding the one
/// before: a settings file (`--config FILE`, YAML or JSON, keys named as the long flags), then
/// `COMCL_*` environment variables (`COMCL_BN_GROUP=20` for `--bn-group 20`), then the flags.
/// The layers become arguments placed before the user's, so ArgumentParser checks every value
/// the same way whichever layer gave it; an option given as a flag takes nothing from the
/// layers below (a repeatable one is not merged with them).
public struct LayeredArguments {
    public enum Source: String, Sendable { case file, environment, flag, `default` }

    public struct Setting: Sendable {
        public var name: String
        public var values: [String]
        public var source: Source
    }

    /// The arguments to parse (subcommand path, then the layers' options, then the user's).
    public var arguments: [String]
    /// Every option of the command, with its value and where the value came from.
    public var settings: [Setting]
    /// The command's path, e.g. ["comcl", "train"].
    public var commandPath: [String]
    /// File keys this command takes no option for (a file shared by several services holds them).
    public var unused: [String]

    /// The layers for `argv` (without the program name) of `root`. Throws a one-sentence error
    /// for an unreadable or malformed settings file.
    public static func resolve(_ root: any ParsableCommand.Type, _ argv: [String], environment: [String: String]) throws -> LayeredArguments
    {
        var argv = argv
        var file: String?
        if let at = argv.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) {
            if argv[at] == "--config" {
                guard at + 1 < argv.count else { throw ValidationError("--config needs a file") }
                file = argv[at + 1]
                argv.removeSubrange(at...(at + 1))
            } else {
                file = String(argv[at].dropFirst("--config=".count))
                argv.remove(at: at)
            }
        }
        let info = try JSONDecoder().decode(ToolInfo.self, from: Data(root._dumpHelp().utf8)).command
        var command = info, path = [info.commandName], consumed = 0
        while consumed < argv.count, let sub = command.subcommands?.first(where: { $0.commandName == argv[consumed] }) {
            (command, consumed) = (sub, consumed + 1)
            path.append(sub.commandName)
        }
        let options = (command.arguments ?? []).filter {
            $0.kind != "positional" && $0.long != nil && !["help", "version"].contains($0.long!)
        }
        let given = Set(argv.dropFirst(consumed).compactMap(Self.optionName))
        let fileValues = try file.map(Self.read) ?? [:]

        var layered = LayeredArguments(arguments: Array(argv.prefix(consumed)), settings: [], commandPath: path, unused: [])
        for option in options {
            let name = option.long!
            let short = (option.names ?? []).filter { $0.kind == "short" }.map { "-\($0.name)" }
            if given.contains("--\(name)") || short.contains(where: given.contains) {
                let values = Self.values(of: name, short: short, in: Array(argv.dropFirst(consumed)))
                layered.settings.append(Setting(name: name, values: option.kind == "flag" ? ["true"] : values, source: .flag))
                continue
            }
            let variable = "COMCL_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            let fromEnvironment = Self.readByTheirOptions.contains(variable) ? nil : environment[variable]
            let (values, source): ([String]?, Source) =
                if let text = fromEnvironment { ([text], .environment) } else if let v = fileValues[name] { (v, .file) } else {
                    (nil, .default)
                }
            guard let values else {
                let fallback = option.defaultValue.map { [$0] } ?? (option.kind == "flag" ? ["false"] : [])
                layered.settings.append(Setting(name: name, values: fallback, source: .default))
                continue
            }
            if option.kind == "flag" {
                let on = ["1", "true", "yes", "on"].contains(values.first?.lowercased() ?? "")
                if on { layered.arguments.append("--\(name)") }
                layered.settings.append(Setting(name: name, values: [on ? "true" : "false"], source: source))
            } else {
                for value in values where option.isRepeating || value == values.last { layered.arguments += ["--\(name)", value] }
                layered.settings.append(Setting(name: name, values: option.isRepeating ? values : Array(values.suffix(1)), source: source))
            }
        }
        let known = Set(options.map { $0.long! })
        layered.unused = fileValues.keys.filter { !known.contains($0) }.sorted()
        layered.arguments += argv.dropFirst(consumed)
        return layered
    }

    /// Variables the options read themselves, with a meaning of their own: a CURVE deployment
    /// gives the coordinator's container COMCL_CURVE_KEY_FILE for its status client, not for the
    /// coordinator's --curve-key-file (README "Deploying").
    static let readByTheirOptions: Set = [
        CurveEnvironment.serverKey, CurveEnvironment.keyFile, CurveEnvironment.coordinatorKeyFile, CurveEnvironment.clients,
        RunToken.environment,
    ]

    /// The settings as YAML, one line each with its source: what a run prints at start and keeps.
    public func yaml() -> String {
        var out = "# \(commandPath.joined(separator: " ")): settings (file, then COMCL_* environment, then flags)\n"
        for setting in settings {
            // "~" is YAML's null: no value (the option is off, or the command works it out).
            let value =
                setting.values.isEmpty
                ? "~"
                : setting.values.count == 1
                    ? Self.quoted(setting.values[0]) : "[" + setting.values.map(Self.quoted).joined(separator: ", ") + "]"
            out += "\(setting.name): \(value)  # \(setting.source.rawValue)\n"
        }
        return out
    }

    /// The value of one setting, as the layers resolved it.
    public func value(_ name: String) -> String? { settings.first { $0.name == name }?.values.last }

    /// A settings file's keys (long flag names; snake_case and camelCase read the same) and values
    /// (a list for a repeatable option).
    static func read(_ path: String) throws -> [String: [String]] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("--config \(path): cannot read it (\(error.localizedDescription))")
        }
        let document: Any?
        do { document = try Yams.load(yaml: text) } catch { throw ValidationError("--config \(path): not YAML or JSON (\(error))") }
        guard let map = document as? [String: Any] else {
            throw ValidationError("--config \(path): give a mapping of settings (flag names without dashes to values)")
        }
        var out: [String: [String]] = [:]
        for (key, value) in map where !(value is NSNull) {
            let values: [String] = (value as? [Any])?.map { "\($0)" } ?? ["\(value)"]
            out[Self.kebab(key)] = values
        }
        return out
    }

    /// "bnGroup" and "bn_group" as "bn-group".
    static func kebab(_ key: String) -> String {
        var out = ""
        for character in key {
            if character.isUppercase, !out.isEmpty, out.last != "-" { out.append("-") }
            out.append(character == "_" ? "-" : Character(character.lowercased()))
        }
        return out
    }

    /// The option an argument names ("--steps", "--steps=4", "-s"), nil for a value.
    static func optionName(_ argument: String) -> String? {
        guard argument.hasPrefix("-"), argument != "-", argument != "--", Double(argument) == nil else { return nil }
        return String(argument.prefix { $0 != "=" })
    }

    /// The values the user gave `--name` (each occurrence; `--name=v` or `--name v`).
    static func values(of name: String, short: [String], in argv: [String]) -> [String] {
        var out: [String] = []
        for (i, argument) in argv.enumerated() {
            if argument.hasPrefix("--\(name)=") { out.append(String(argument.dropFirst(name.count + 3))) }
            if argument == "--\(name)" || short.contains(argument), i + 1 < argv.count { out.append(argv[i + 1]) }
        }
        return out
    }

    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { $0.isLetter || $0.isNumber || "._/:-+@".contains($0) }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// ArgumentParser's own description of a command tree (`--experimental-dump-help`).
    struct ToolInfo: Decodable {
        struct Name: Decodable { var kind: String, name: String }
        struct Argument: Decodable {
            var kind: String
            var names: [Name]?
            var isRepeating: Bool
            var defaultValue: String?
            var long: String? { names?.first { $0.kind == "long" }?.name }
        }
        struct Command: Decodable {
            var commandName: String
            var arguments: [Argument]?
            var subcommands: [Command]?
        }
        var command: Command
    }
}

extension LayeredArguments {
    /// The settings this process announced and the run folder they belong in, kept there by
    /// `keepSettings` once the run has made the folder (a refused command writes nothing).
    nonisolated(unsafe) private static var pending: (folder: URL, text: String)?

    /// This process's arguments with the layers applied. When `announce` says so for the command,
    /// prints its settings in full to stderr, to be kept as `settings-<command>.yaml` in its run
    /// folder (`--run-folder`, else `--out`): by `keepSettings`, which `atExit` also runs when the
    /// process ends (the services). A bad settings file ends the process with one sentence.
    public static func forProcess(
        _ root: any ParsableCommand.Type, atExit: Bool = true, announce: (LayeredArguments) -> Bool = { _ in true }
    ) -> [String] {
        let layered: LayeredArguments
        do {
            layered = try resolve(root, Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("Error: \((error as? ValidationError)?.message ?? "\(error)")\n".utf8))
            exit(ExitCode.validationFailure.rawValue)
        }
        if !layered.unused.isEmpty {
            FileHandle.standardError.write(
                Data(
                    "settings file keys \(layered.commandPath.joined(separator: " ")) takes no option for: \(layered.unused.joined(separator: ", "))\n"
                        .utf8))
        }
        let asksForHelp = layered.arguments.contains { ["--help", "-h", "--version", "--experimental-dump-help"].contains($0) }
        if !asksForHelp, announce(layered) {
            let text = layered.yaml()
            FileHandle.standardError.write(Data(text.utf8))
            if let folder = layered.value("run-folder") ?? layered.value("out"), !folder.isEmpty {
                pending = (URL(fileURLWithPath: folder).appendingPathComponent("settings-\(layered.commandPath.last!).yaml"), text)
                if atExit { atexit { LayeredArguments.keepSettings() } }
            }
        }
        return layered.arguments
    }

    /// Writes the announced settings into the run folder, if the run has made it.
    public static func keepSettings() {
        guard let (file, text) = pending, FileManager.default.fileExists(atPath: file.deletingLastPathComponent().path) else { return }
        try? Data(text.utf8).write(to: file)
    }
}
