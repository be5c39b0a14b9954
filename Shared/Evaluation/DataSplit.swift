import Basics
import Datasets

/// A seeded train/test split of one label file, stratified so each (label, quality) group is
/// held out in the same share: a small set still tests every grade at both qualities.
public enum DataSplit {
    public static func split(_ manifest: Manifest, testShare: Double, seed: UInt64) -> (train: Manifest, test: Manifest) {
        var groups: [String: [Int]] = [:]
        for (index, entry) in manifest.entries.enumerated() {
            let label = entry.grade.map(String.init) ?? DiagnosisTask.positives(entry).sorted().joined(separator: "|")
            groups["\(label)/\(entry.quality.rawValue)", default: []].append(index)
        }
        var testIndices = Set<Int>()
        for (number, key) in groups.keys.sorted().enumerated() {
            var members = groups[key]!
            var rng = SeededGenerator(seed: seed, 0x5B117, UInt64(number))
            rng.shuffle(&members)
            testIndices.formUnion(members.prefix(Int((Double(members.count) * testShare).rounded())))
        }
        var train = manifest, test = manifest
        train.entries = manifest.entries.indices.filter { !testIndices.contains($0) }.map { manifest.entries[$0] }
        test.entries = manifest.entries.indices.filter { testIndices.contains($0) }.map { manifest.entries[$0] }
        return (train, test)
    }
}
