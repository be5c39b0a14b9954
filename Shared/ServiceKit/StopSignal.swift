import Dispatch
import Glibc
import Synchronization

/// Turns SIGTERM / SIGINT (what containers and Ctrl-C send) into a flag the service loops
/// poll, so a service finishes or hands back its work instead of dying mid-item.
public final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private var sources: [DispatchSourceSignal] = []

    public init(signals: [Int32] = [SIGTERM, SIGINT]) {
        for number in signals {
            signal(number, SIG_IGN)  // delivered through the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.trigger() }
            source.resume()
            sources.append(source)
        }
        LauncherWatch.arm(self)  // a local service also stops when the command that started it dies
    }

    public var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Sets the flag by hand (tests, or a service deciding to stop).
    public func trigger() { flag.store(true, ordering: .releasing) }
}
