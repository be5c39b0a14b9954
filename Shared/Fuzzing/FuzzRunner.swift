import Basics
import Foundation
import Glibc
import Synchronization

/// Runs mutated inputs through a target. Input `i` of target `t` is a function of (seed, t, i)
/// alone, so any input is reproduced by its number without replaying the ones before it. A crash
/// (a trap, a bad access) or an input running past `hangSeconds` prints the reproducing command
/// and ends the process: nothing in-process can carry on safely after either.
public struct FuzzRunner {
    public struct Summary: Sendable, CustomStringConvertible {
        public var target: String
        public var inputs = 0
        /// Inputs the decoder accepted (the rest it refused with an error).
        public var accepted = 0
        public var slowestSeconds = 0.0
        public var seconds = 0.0
        /// Distinct error messages, first words only (what kinds of refusal were exercised).
        public var refusals: [String: Int] = [:]

        public var description: String {
            String(
                format: "%@: %d inputs, %d accepted, %d refused (%d kinds), slowest %.1f ms, %.0f inputs/s",
                target, inputs, accepted, inputs - accepted, refusals.count, slowestSeconds * 1000, Double(inputs) / max(seconds, 1e-9))
        }
    }

    public let seed: UInt64
    public var hangSeconds = 10.0
    let mutator = Mutator()

    public init(seed: UInt64) { self.seed = seed }

    /// The `index`-th input of `target` (its seed inputs first, unmutated).
    public func input(_ target: FuzzTarget, number index: Int) -> [UInt8] {
        if index < target.seeds.count { return target.seeds[index] }
        var rng = SeededGenerator(seed: seed, 0xF022, Self.code(target.name), UInt64(index))
        return mutator.mutate(target.seeds[rng.integer(0, target.seeds.count - 1)], seeds: target.seeds, rng: &rng)
    }

    /// Inputs `range` of `target`.
    public func run(_ target: FuzzTarget, inputs range: Range<Int>) -> Summary {
        var summary = Summary(target: target.name)
        let watch = Watchdog.shared
        watch.arm(target: target.name, seed: seed, hangSeconds: hangSeconds)
        let started = clock.now()
        for index in range {
            let bytes = input(target, number: index)
            Watchdog.current.store(index, ordering: .relaxed)
            let t0 = clock.now()
            do {
                try target.run(bytes)
                summary.accepted += 1
            } catch {
                summary.refusals[String("\(error)".prefix(40)), default: 0] += 1
            }
            summary.slowestSeconds = max(summary.slowestSeconds, clock.now() - t0)
            summary.inputs += 1
        }
        Watchdog.current.store(-1, ordering: .relaxed)
        summary.seconds = clock.now() - started
        return summary
    }

    /// A stable 64-bit code of a name (FNV-1a), so the inputs of a target do not change when
    /// targets are added or reordered.
    static func code(_ name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

let clock = SystemClock()

struct SystemClock {
    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

/// Names the input in flight when the process dies: a signal handler for crashes (it only
/// copies preallocated bytes and calls write(2), which is async-signal-safe) and a thread for
/// hangs.
final class Watchdog: Sendable {
    static let shared = Watchdog()
    /// The input number in flight, or -1.
    static let current = Atomic<Int>(-1)
    static let hangLimit = Atomic<Int>(10)
    /// "; reproduce it with comcl fuzz --target T --seed S ...", set per run before any input.
    nonisolated(unsafe) static var reproduce = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 512)
    nonisolated(unsafe) static var reproduceLength = 0

    private init() {
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                Watchdog.report(Watchdog.current.load(ordering: .relaxed), "fuzz: crashed on input ")
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            sigaction(signal, &action, nil)
        }
        Thread {
            var last = (index: -2, since: clock.now())
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                let index = Self.current.load(ordering: .relaxed)
                if index != last.index { last = (index, clock.now()) }
                if index >= 0, clock.now() - last.since > Double(Self.hangLimit.load(ordering: .relaxed)) {
                    Watchdog.report(index, "fuzz: hung (past the hang limit) on input ")
                    _exit(3)
                }
            }
        }.start()
    }

    func arm(target: String, seed: UInt64, hangSeconds: Double) {
        Self.hangLimit.store(max(1, Int(hangSeconds.rounded(.up))), ordering: .relaxed)
        let text = Array(
            "; reproduce it with: comcl fuzz --target \(target) --seed \(seed) --inputs 1 --save DIR --from <that number>\n".utf8.prefix(
                512))
        Self.reproduceLength = text.count
        for (i, byte) in text.enumerated() { Self.reproduce[i] = byte }
    }

    /// Writes `what`, the input number and how to reproduce it (no allocation).
    static func report(_ index: Int, _ what: StaticString) {
        _ = write(2, what.utf8Start, what.utf8CodeUnitCount)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch on the stack
        withUnsafeMutableBytes(of: &digits) { buffer in
            var (value, count) = (max(0, index), 0)
            repeat {
                buffer[23 - count] = UInt8(48 + value % 10)
                value /= 10
                count += 1
            } while value > 0 && count < 24
            _ = write(2, buffer.baseAddress! + 24 - count, count)
        }
        _ = write(2, reproduce.baseAddress!, reproduceLength)
    }
}
