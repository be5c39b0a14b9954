import ArgumentParser
import Foundation
import Images

struct ImageInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-info", abstract: "Decode PNG/JPEG files as the services will and print their size, or why they fail.")

    @Argument(help: "Image files.")
    var files: [String]

    func run() throws {
        var failures = 0
        for file in files {
            do {
                let image = try ImageDecoder.decode(contentsOf: file)
                print("\(file): \(image.width)x\(image.height) RGB8")
            } catch {
                failures += 1
                print("\(file): \(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
