import Foundation

/// Chooses OpenBLAS's kernels for this CPU before OpenBLAS is used.
///
/// Debian's OpenBLAS 0.3.21 picks its kernels when the library loads, from `OPENBLAS_CORETYPE` if
/// set, else from its own detection. These machines' environment forces `Haswell` (AVX2), which
/// runs sgemm at about half the speed of the AVX-512 kernels on the AVX-512 EPYCs they run on, and
/// 0.3.21 does not know Zen 4/5 by name. So each of our executables calls `select` first thing: it
/// reads the CPU's features, decides, and if the loaded library was told otherwise re-executes
/// itself with the variable set (the only way to change a loaded library's choice).
public enum BLASCore {
    /// Our own override: `auto` (default), `system` (leave OPENBLAS_CORETYPE as the environment
    /// has it), or an OpenBLAS core name (`Haswell`, `SkylakeX`, `Cooperlake`, ...).
    public static let variable = "COMCL_BLAS_CORE"
    static let reexecMarker = "COMCL_BLAS_CORE_CHOSEN"

    /// The decision, for the log line.
    public struct Choice: Sendable, CustomStringConvertible {
        public let requested: String, core: String?, reason: String
        public var description: String { "OpenBLAS core \(core ?? "(OpenBLAS's own detection)"): \(reason)" }
    }

    /// The kernels for a set of CPU feature flags (as /proc/cpuinfo names them).
    public static func core(forFlags flags: Set<String>) -> (core: String?, reason: String) {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) {
            // SkylakeX holds OpenBLAS's AVX-512 sgemm kernel; Cooperlake adds only bf16 routines
            // (measured: same sgemm speed), so SkylakeX is chosen for any AVX-512 CPU.
            return ("SkylakeX", "AVX-512 (F/BW/VL/DQ) present")
        }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return ("Haswell", "AVX2 + FMA, no AVX-512") }
        return (nil, "neither AVX-512 nor AVX2: left to OpenBLAS")
    }

    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Decides, re-executing the process if the loaded OpenBLAS was configured otherwise. Call it
    /// before any other work (and before threads exist). The request comes from $COMCL_BLAS_CORE.
    @discardableResult
    public static func select() -> Choice {
        let env = ProcessInfo.processInfo.environment
        let request = env[variable] ?? "auto"
        let choice: Choice
        switch request.lowercased() {
        case "system":
            choice = Choice(
                requested: request, core: env["OPENBLAS_CORETYPE"], reason: "\(variable)=system keeps the environment's setting")
        case "auto":
            let (core, reason) = core(forFlags: cpuFlags())
            choice = Choice(requested: request, core: core, reason: "detected: \(reason)")
        default:
            choice = Choice(requested: request, core: request, reason: "requested by \(variable)")
        }
        let current = env["OPENBLAS_CORETYPE"]
        if current != choice.core && env[reexecMarker] == nil {
            if let core = choice.core { setenv("OPENBLAS_CORETYPE", core, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
            setenv(reexecMarker, "1", 1)
            reexec()  // returns only if exec failed; then we go on with what is loaded
        }
        unsetenv(reexecMarker)  // children decide for themselves
        return choice
    }

    private static func reexec() {
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        for p in argv { free(p) }
    }
}
