import Foundation
import Testing
import Training

/// The pre-training learning rate per step, and old config files reading back as they ran.
@Suite struct LearningRateScheduleTests {
    @Test func warmUpThenCosine() {
        var config = TrainingConfig()
        (config.steps, config.warmupSteps, config.learningRate) = (1100, 100, 1e-3)
        #expect(abs(config.learningRate(at: 0) - 1e-5) < 1e-12)  // linear warm-up: (t + 1) / 100
        #expect(abs(config.learningRate(at: 49) - 5e-4) < 1e-12)
        #expect(abs(config.learningRate(at: 100) - 1e-3) < 1e-12)  // the peak
        #expect(abs(config.learningRate(at: 600) - 5e-4) < 1e-12)  // half-way through the cosine
        #expect(config.learningRate(at: 1099) < 1e-7)
        config.lrSchedule = .constant
        #expect(config.learningRate(at: 0) == 1e-3 && config.learningRate(at: 1099) == 1e-3)
        // Warm-up longer than the run: the warm-up is cut to the run.
        (config.lrSchedule, config.steps) = (.cosine, 50)
        #expect(abs(config.learningRate(at: 49) - 1e-3) < 1e-12)
    }

    @Test func configsWrittenBeforeSchedulesReadAsConstant() throws {
        let config = TrainingConfig()
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        json["lrSchedule"] = nil
        json["warmupSteps"] = nil
        let old = try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.lrSchedule == .constant && old.warmupSteps == 0)
        var expected = config
        (expected.lrSchedule, expected.warmupSteps) = (.constant, 0)
        #expect(old == expected)
        // A current file reads back whole.
        #expect(try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(config)) == config)
        // A missing older key is still an error.
        json["tau"] = nil
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: json))
        }
    }

    @Test func shortSelfPacedRunsAreWarnedAbout() {
        var config = TrainingConfig()
        config.steps = 300
        #expect(config.shortScheduleWarning?.contains("300 steps") == true)
        config.mode = .noSPL
        #expect(config.shortScheduleWarning == nil)  // no curriculum to squeeze
        (config.mode, config.steps) = (.comcl, TrainingConfig.shortScheduleSteps)
        #expect(config.shortScheduleWarning == nil)
    }
}
