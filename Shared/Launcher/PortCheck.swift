import Basics
import Foundation
import Glibc

/// Checks, before anything starts or is written, that the loopback ports a local launch binds
/// are free, so a second run on the same ports is refused with one sentence instead of
/// half-starting (DESIGN: a refused command changes nothing).
public enum PortCheck {
    /// Throws naming the first busy port and the option that moves the launch.
    public static func requireFree(basePort: Int, count: Int = 5, option: String = "--base-port") throws {
        for port in basePort..<(basePort + count) where !isFree(port) {
            throw Problem(
                "port \(port) on 127.0.0.1 is in use (another comcl run on this machine, or another program): choose other ports with \(option), e.g. \(option) \(basePort + 10)"
            )
        }
    }

    /// Whether a listener could bind 127.0.0.1:port now. SO_REUSEADDR, as libzmq sets, so the
    /// TIME_WAIT leftovers of a run that just ended do not count as busy.
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }  // cannot tell: let the coordinator's bind say it
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }
}
