import ArgumentParser
import Foundation
import Images

struct ImageInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-info",
        abstract: "Decode PNG, JPEG and DICOM files as the services will and print their size, depth and window, or why they fail.")

    @Argument(help: "Image files.")
    var files: [String]

    func run() throws {
        var failures = 0
        for file in files {
            do {
                let image = try ImageDecoder.decodeImage(contentsOf: file)
                // RGB16: kept at 16 bits into the augmenter's views (a DICOM, a 16-bit PNG).
                let depth = image.wide == nil ? "RGB8" : "RGB16"
                print("\(file): \(image.rgb.width)x\(image.rgb.height) \(depth)" + (image.window.map { ", \($0)" } ?? ""))
            } catch {
                failures += 1
                print("\(file): \(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
