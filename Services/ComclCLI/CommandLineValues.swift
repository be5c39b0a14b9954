/// Command-line spelling the argument parser would misread.
enum CommandLineValues {
    /// `--steps -1` reads to swift-argument-parser as an option missing its value followed by an
    /// unknown flag `-1`; `--steps=-1` reads as the value -1, which validation then names in one
    /// sentence. So a negative number (or -nan, -inf) right after a long option is attached to it.
    static func attachingNegativeNumbers(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--"), !argument.contains("="), index + 1 < arguments.count, isNegativeNumber(arguments[index + 1]) {
                result.append("\(argument)=\(arguments[index + 1])")
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }

    static func isNegativeNumber(_ text: String) -> Bool {
        guard text.hasPrefix("-"), text.count > 1 else { return false }
        let body = text.dropFirst()
        return Double(body) != nil || body.lowercased() == "nan" || body.lowercased() == "inf"
    }
}
