import CProcess
import Glibc

/// A service that `comcl train`, `demo` or `soak` started as a local process stops when that
/// command dies, however it dies. On Ctrl-C or SIGTERM the command stops its services itself;
/// killed outright (SIGKILL, the OOM killer), it cannot, and its services would train on as
/// orphans holding the CPU and the ports. The command names itself in `variable`; a service that
/// finds it asks the kernel for SIGTERM when its launcher goes (PR_SET_PDEATHSIG), which its
/// `StopSignal` turns into a graceful stop.
public enum LauncherWatch {
    public static let variable = "COMCL_LAUNCHER_PID"

    /// Arms the watch if this process was started by a launcher; stops at once (through `stop`)
    /// if the launcher is already gone. Call after `stop` handles SIGTERM.
    static func arm(_ stop: StopSignal) {
        guard let text = getenv(variable), let launcher = Int32(String(cString: text)), launcher > 1 else { return }
        _ = comcl_set_parent_death_signal(SIGTERM)
        // It may have died before the watch was armed: then we were handed to another parent.
        if getppid() != launcher { stop.trigger() }
    }
}
