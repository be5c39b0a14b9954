import Foundation
import Fuzzing
import Testing

/// The bounded fuzz run of CI (scripts/fuzz.sh runs the long one under ASan and LSan): every
/// decoder gets its seeds and 20,000 mutated inputs; any crash ends the test process naming the
/// input, and an input past 5 s counts as a hang.
@Suite struct FuzzTests {
    static let pngSuite = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent(".cache/pngsuite")
    static let jpegFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jpeg")

    static func targets() throws -> [FuzzTarget] {
        try FuzzTarget.all().map { target in
            var target = target
            for folder in [pngSuite, jpegFixtures] where FileManager.default.fileExists(atPath: folder.path) {
                target = try target.addingSeeds(from: folder)
            }
            return target
        }
    }

    @Test(arguments: try targets())
    func decoderRefusesOrAcceptsEveryInput(_ target: FuzzTarget) {
        var runner = FuzzRunner(seed: 20261122)
        runner.hangSeconds = 5
        let summary = runner.run(target, inputs: 0..<(target.seeds.count + 20_000))
        print(summary)
        #expect(summary.inputs == target.seeds.count + 20_000)
        // Both paths exercised: some mutants still decode, most are refused with an error.
        #expect(summary.accepted > target.seeds.count / 2 && summary.inputs - summary.accepted > summary.inputs / 2, "\(summary)")
        #expect(summary.slowestSeconds < 5)
    }

    @Test(arguments: try FuzzTarget.all())
    func everySeedIsAValidInput(_ target: FuzzTarget) throws {
        for (index, seed) in target.seeds.enumerated() {
            #expect(throws: Never.self, "\(target.name) seed \(index)") { try target.run(seed) }
        }
    }

    @Test func inputsAreAFunctionOfSeedTargetAndNumber() throws {
        let target = try FuzzTarget.all()[0]
        let (a, b, c) = (FuzzRunner(seed: 5), FuzzRunner(seed: 5), FuzzRunner(seed: 6))
        #expect((0..<200).map { a.input(target, number: $0) } == (0..<200).map { b.input(target, number: $0) })
        #expect((100..<200).map { a.input(target, number: $0) } != (100..<200).map { c.input(target, number: $0) })
        // Input 150 alone is input 150 of the whole run.
        #expect(a.input(target, number: 150) == (0...150).map { b.input(target, number: $0) }.last)
        // Seeds first, unmutated.
        #expect(a.input(target, number: 0) == target.seeds[0])
    }
}

extension FuzzTarget: CustomTestStringConvertible {
    public var testDescription: String { name }
}
