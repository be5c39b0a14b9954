import ArgumentParser
import ServiceKit
import Transport

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write a CurveZMQ key pair file (public key, secret key; Z85) for --curve-key-file.")

    @Argument(help: "File to write (mode 0600).")
    var path: String

    func run() throws {
        let keys = try CurveKeyPair.generate()
        try CurveKeyFile.save(keys, to: path)
        print(keys.publicKey)
    }
}
