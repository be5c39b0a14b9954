import Augmentation
import ArgumentParser

/// `comcl recipe`: prints a recipe as JSON with every parameter spelled out, so a user can start
/// from a preset, edit it, and check the edited file before a run.
struct RecipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Print an augmentation recipe (a preset or a JSON file, checked) as JSON with every parameter and default.")

    @Argument(help: "A preset (\(Recipe.presetNames)) or a recipe file.") var recipe = "prior-work"

    func run() throws {
        do { print(try Recipe.load(recipe).json(pretty: true)) } catch { throw ValidationError("\(error)") }
    }
}
