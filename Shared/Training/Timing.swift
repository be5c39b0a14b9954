import Glibc
import Transport

/// The module's clock for time splits: monotonic seconds, Transport's, as the distributors use.
let clock = SystemTime()

func seconds(since start: Double) -> Double { clock.now() - start }

/// User + system CPU seconds of this process so far (getrusage).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
