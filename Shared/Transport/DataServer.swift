import Foundation
import Logging
import Synchronization
import Wire

/// A worker's data endpoint (the data plane, docs/protocol.md): a ROUTER socket on its own
/// thread that answers `Fetch` from what the worker keeps (a cropper's patches, an augmenter's
/// views), so a fetch is served while the worker's compute thread is busy with
/// the next item. Fetches are read-only: an item can be fetched again (work redone elsewhere).
/// An embedding worker's takes the `GradientPart`s its peers push (unanswered) into its inbox.
public final class DataServer: @unchecked Sendable {
    /// The endpoint to give to others (the bound one, its port chosen when bound to `:*`).
    public let endpoint: String
    private let router: ZMQRouter
    private let views: KeptViews?
    private let patches: KeptPatches?
    private let inbox: GradientInbox?
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let name: String
    private let logger: Logger

    /// `bind`: an endpoint others can reach, on an address of this machine (`tcp://10.0.0.7:*`
    /// picks a free port; a wildcard address would not tell others where to connect).
    public init(
        _ context: ZMQContext, bind: String, views: KeptViews? = nil, patches: KeptPatches? = nil, inbox: GradientInbox? = nil,
        name: String, options: SocketOptions = SocketOptions(), logger: Logger
    ) throws {
        router = try ZMQRouter(context, bind: bind, options: options)
        endpoint = try router.socket.lastEndpoint
        (self.views, self.patches, self.inbox, self.name, self.logger) = (views, patches, inbox, name, logger)
        let thread = Thread { [self] in serve() }
        thread.name = "data-server"
        thread.start()
    }

    private func serve() {
        defer { done.signal() }
        while !stopping.load(ordering: .relaxed) {
            do {
                guard let message = try router.receive(timeout: 0.1) else { continue }
                let reply: Body
                do {
                    let request = try Envelope.decode(frames: message.frames)
                    if case .gradientPart(let part) = request.body, let inbox {
                        inbox.put(part)
                        continue
                    }
                    switch (request.body, views, patches) {
                    case (.fetch(let fetch), let views?, _):
                        let (pairs, missing) = views.fetch(fetch.ids)
                        reply = .fetched(Fetched(pairs: pairs, missing: missing))
                    case (.fetch(let fetch), _, let patches?):
                        let (found, missing) = patches.fetch(fetch.ids)
                        reply = .fetched(Fetched(patches: found, missing: missing))
                    default:
                        reply = .error(
                            ErrorReport(
                                code: .unsupported,
                                message: "this data endpoint takes \(inbox == nil ? "Fetch" : "GradientPart"), not \(request.body.kind)"))
                    }
                } catch {  // a WireError: decoding is the only thing that throws here
                    reply = .error(ErrorReport(code: error.code, message: "\(error)"))
                }
                try? router.send(Envelope(sender: name, body: reply).encoded(), to: message.peer)
            } catch {
                logger.error("data endpoint \(endpoint): \(error)")
                return
            }
        }
    }

    /// Stops serving and closes the socket.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        done.wait()
        router.socket.close()
    }
}
