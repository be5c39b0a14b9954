import Basics
import Foundation
import Glibc
import Transport

/// A CurveZMQ key pair stored as two lines of Z85 text: public, then secret.
public enum CurveKeyFile {
    public static func load(_ path: String) throws -> CurveKeyPair {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        guard lines.count >= 2 else { throw Problem("\(path): expected two lines (public key, secret key)") }
        return try CurveKeyPair(publicKey: lines[0], secretKey: lines[1])
    }

    /// A list of client public keys: one per line, the key first (anything after whitespace names
    /// it); blank lines and lines starting with "# " are comments (Z85 has no space, but has "#").
    public static func publicKeys(_ path: String) throws -> [String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Problem("\(path): cannot read the client key list (\(error.localizedDescription))")
        }
        var keys: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("# ") else { continue }
            let line = String(trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).first!)
            guard line.utf8.count == 40 else {
                throw Problem("\(path):\(number + 1): \"\(line.prefix(12))...\" is not a 40-character Z85 public key")
            }
            keys.append(line)
        }
        guard !keys.isEmpty else { throw Problem("\(path): no client keys listed (every client would be refused)") }
        return keys
    }

    public static func save(_ keys: CurveKeyPair, to path: String) throws {
        try "\(keys.publicKey)\n\(keys.secretKey)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }
}
