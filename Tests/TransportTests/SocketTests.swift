import Foundation
import Logging
import Testing
import Transport
import Wire

/// Socket options and failure modes on real libzmq sockets, in one process.
@Suite(.serialized) struct SocketTests {
    let context = ZMQContext()

    func pair(
        routerOptions: SocketOptions = SocketOptions(), dealerOptions: SocketOptions = SocketOptions()
    ) throws -> (ZMQRouter, ZMQDealer) {
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*", options: routerOptions)
        let dealer = try ZMQDealer(context, connect: try router.socket.lastEndpoint, options: dealerOptions)
        return (router, dealer)
    }

    @Test func multipartRoundTrip() throws {
        let (router, dealer) = try pair()
        try dealer.socket.send([[1, 2], [], [3]])
        let message = try #require(try router.receive(timeout: 5))
        #expect(message.frames == [[1, 2], [], [3]])
        try router.send([9], to: message.peer)
        #expect(try dealer.receive(timeout: 5) == [[9]])
    }

    @Test func receiveTimesOut() throws {
        let (router, _) = try pair()
        let start = Date()
        #expect(try router.receive(timeout: 0.2) == nil)
        #expect(Date().timeIntervalSince(start) >= 0.15)
    }

    @Test func routerMandatoryMakesUnroutableSendsFail() throws {
        let (router, _) = try pair()
        #expect { try router.send([1], to: Array("nobody".utf8)) } throws: { ($0 as? ZMQError)?.isUnroutable == true }
    }

    @Test func oversizedMessageIsDroppedAndTheRouterCarriesOn() throws {
        var small = SocketOptions()
        small.maxMessageBytes = 1024
        let (router, big) = try pair(routerOptions: small)
        try big.send([UInt8](repeating: 7, count: 4096))
        #expect(try router.receive(timeout: 0.5) == nil, "libzmq drops a message over ZMQ_MAXMSGSIZE (and that connection)")
        let polite = try ZMQDealer(context, connect: try router.socket.lastEndpoint)
        try polite.send([1, 2, 3])
        #expect(try router.receive(timeout: 5)?.frames == [[1, 2, 3]])
    }

    @Test func curveEncryptsAndChecksTheServerKey() throws {
        try #require(ZMQContext.has("curve"), "libzmq without CURVE")
        let server = try CurveKeyPair.generate()
        var routerOptions = SocketOptions()
        routerOptions.curve = .server(server)
        var good = SocketOptions()
        good.curve = .client(try CurveKeyPair.generate(), serverPublicKey: server.publicKey)
        let (router, dealer) = try pair(routerOptions: routerOptions, dealerOptions: good)
        try dealer.send([42])
        #expect(try router.receive(timeout: 5)?.frames == [[42]])

        var wrong = SocketOptions()
        wrong.curve = .client(try CurveKeyPair.generate(), serverPublicKey: try CurveKeyPair.generate().publicKey)
        wrong.lingerMilliseconds = 0
        let impostor = try ZMQDealer(context, connect: try router.socket.lastEndpoint, options: wrong)
        try impostor.socket.send([[13]], dontWait: true)
        #expect(try router.receive(timeout: 0.5) == nil, "a client with the wrong server key must not get through")

        var plain = SocketOptions()
        plain.lingerMilliseconds = 0
        let cleartext = try ZMQDealer(context, connect: try router.socket.lastEndpoint, options: plain)
        try cleartext.socket.send([[14]], dontWait: true)
        #expect(try router.receive(timeout: 0.5) == nil, "an unencrypted client must not get through")
    }

    @Test func curveAdmitsListedClientKeysOnly() throws {
        try #require(ZMQContext.has("curve"), "libzmq without CURVE")
        let context = ZMQContext()  // its own: one ZAP handler per context
        let (server, listed, unlisted) = (try CurveKeyPair.generate(), try CurveKeyPair.generate(), try CurveKeyPair.generate())
        // Never stopped by hand: going out of scope must stop its thread and close its socket
        // (else the context would never terminate and the test would hang).
        let authenticator = try CurveAuthenticator(context: context, allowed: [listed.publicKey], logger: Logger(label: "test.zap"))
        var serverOptions = SocketOptions()
        serverOptions.curve = .server(server)
        let router = try ZMQRouter(context, bind: "tcp://127.0.0.1:*", options: serverOptions)

        var stranger = SocketOptions()
        stranger.curve = .client(unlisted, serverPublicKey: server.publicKey)
        stranger.lingerMilliseconds = 0
        let refused = try ZMQDealer(context, connect: try router.socket.lastEndpoint, options: stranger)
        try refused.socket.send([[13]], dontWait: true)
        #expect(try router.receive(timeout: 0.5) == nil, "a client whose key is not listed must not get through")
        #expect(authenticator.refused >= 1, "the refusal is counted (and logged)")

        var member = SocketOptions()
        member.curve = .client(listed, serverPublicKey: server.publicKey)
        let admitted = try ZMQDealer(context, connect: try router.socket.lastEndpoint, options: member)
        try admitted.send([42])
        #expect(try router.receive(timeout: 5)?.frames == [[42]])
        #expect(throws: ZMQError.self) {
            _ = try CurveAuthenticator(context: context, allowed: ["short"], logger: Logger(label: "test.zap"))
        }
    }

    @Test func keysMustBeZ85() {
        #expect(throws: ZMQError.self) { _ = try CurveKeyPair(publicKey: "short", secretKey: "short") }
    }
}
