import Foundation
import Synthetic

/// A fresh temporary folder for one test, and small synthetic configs.
func temporaryFolder(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("comcl-\(name)-\(UUID().uuidString)")
}

func smallConfig(count: Int, size: Int, seed: UInt64) -> SyntheticDataset.Config {
    var config = SyntheticDataset.Config(count: count)
    (config.size, config.seed) = (size, seed)
    return config
}
