import Foundation

/// Adam's state beside a checkpoint's weights: `exp_avg.<param>` and `exp_avg_sq.<param>` (PyTorch's
/// names for the moments) in safetensors, the step and hyper-parameters in its metadata, so a run
/// resumes with the exact moments it stopped with.
extension Adam {
    public func encodeState(names: [String]) -> Data {
        precondition(names.count == parameters.count, "one name per parameter")
        var w = SafeTensorsWriter()
        w.metadata = [
            "optimizer": "adam", "step": "\(step)", "lr": "\(learningRate)", "beta1": "\(beta1)", "beta2": "\(beta2)",
            "eps": "\(eps)", "weight_decay": "\(weightDecay)", "decay": decay.rawValue,
        ]
        for (i, name) in names.enumerated() {
            let p = parameters[i]
            w.add("exp_avg.\(name)", floats: UnsafeBufferPointer(start: firstMoments[i].pointer, count: p.count), shape: p.shape)
            w.add("exp_avg_sq.\(name)", floats: UnsafeBufferPointer(start: secondMoments[i].pointer, count: p.count), shape: p.shape)
        }
        return w.data()
    }

    /// A new Adam over `parameters` with the settings, moments and step of a state file (a
    /// replica takes the run's optimizer from the coordinator's state this way).
    public static func restored(_ file: SafeTensors, parameters: [Parameter], names: [String]) throws -> Adam {
        let m = file.metadata
        guard let lr = m["lr"].flatMap(Float.init), let beta1 = m["beta1"].flatMap(Float.init), let beta2 = m["beta2"].flatMap(Float.init),
            let eps = m["eps"].flatMap(Float.init), let weightDecay = m["weight_decay"].flatMap(Float.init),
            let decay = m["decay"].flatMap(Decay.init(rawValue:))
        else { throw ModelStateError.file("an Adam state file without its settings (metadata \(m))") }
        let adam = Adam(parameters, learningRate: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decay: decay)
        try adam.restoreState(file, names: names)
        return adam
    }

    /// Restores moments and step; every tensor is checked before any is changed.
    public func restoreState(_ file: SafeTensors, names: [String]) throws {
        guard file.metadata["optimizer"] == "adam", let saved = file.metadata["step"].flatMap(Int.init) else {
            throw ModelStateError.file("not an Adam state file (metadata \(file.metadata))")
        }
        for (i, name) in names.enumerated() {
            for key in ["exp_avg.\(name)", "exp_avg_sq.\(name)"] {
                guard let e = file.entries[key] else { throw ModelStateError.missing([key]) }
                if e.shape != parameters[i].shape { throw ModelStateError.shape(name: key, model: parameters[i].shape, file: e.shape) }
            }
        }
        for (i, name) in names.enumerated() {
            // Moments are stored as they are used: no layout conversion (they never leave our code).
            try file.floats("exp_avg.\(name)").withUnsafeBufferPointer {
                firstMoments[i].pointer.update(from: $0.baseAddress!, count: $0.count)
            }
            try file.floats("exp_avg_sq.\(name)").withUnsafeBufferPointer {
                secondMoments[i].pointer.update(from: $0.baseAddress!, count: $0.count)
            }
        }
        step = saved
    }
}
