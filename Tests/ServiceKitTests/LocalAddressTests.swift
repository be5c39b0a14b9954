import ServiceKit
import Testing

/// The address a data endpoint binds and hands out: the one that routes to the coordinator, and
/// none (results stay inline) when there is no such IPv4 address.
@Suite struct LocalAddressTests {
    @Test func loopbackCoordinatorGivesLoopback() {
        #expect(LocalAddress.toward(endpoint: "tcp://127.0.0.1:5572") == "127.0.0.1")
    }

    @Test func endpointsWithoutAnIPv4RouteGiveNone() {
        #expect(LocalAddress.toward(endpoint: "ipc:///tmp/comcl-coordinator") == nil)
        #expect(LocalAddress.toward(endpoint: "tcp://no-such-host.invalid:5572") == nil)
        #expect(LocalAddress.toward(endpoint: "not an endpoint") == nil)
    }
}
