import Logging

/// A logger for the benchmarks' own distributors: warnings only, since info lines (a worker
/// joined) would break up the table a benchmark prints.
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
