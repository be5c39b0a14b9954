import Foundation
import Testing

/// The committed protoc-c output must equal what the committed .proto generates today.
@Suite struct GeneratedCodeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func committedCodeMatchesTheProto() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("comcl-proto-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = Process()
        script.executableURL = Self.root.appendingPathComponent("scripts/generate-protocol.sh")
        script.arguments = [out.path]
        try script.run()
        script.waitUntilExit()
        try #require(script.terminationStatus == 0, "scripts/generate-protocol.sh failed (is protoc-c installed?)")
        for file in ["comcl.pb-c.c", "include/comcl.pb-c.h"] {
            let fresh = try Data(contentsOf: out.appendingPathComponent(file))
            let committed = try Data(contentsOf: Self.root.appendingPathComponent("Shared/CProtocol/\(file)"))
            #expect(fresh == committed, "Shared/CProtocol/\(file) is stale: run scripts/generate-protocol.sh and commit")
        }
    }
}
