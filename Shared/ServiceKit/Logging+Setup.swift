import Foundation
import Logging

public enum LogSetup {
    /// One process-wide bootstrap: lines on stderr as `time level label: message`.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
