"""An embedding worker in PyTorch for CoMCL-Swift: one data-parallel replica of the encoder on a
CPU or a CUDA device, joining the same pool as our own workers (docs/embedding-worker.md).

    python worker.py --coordinator tcp://COORDINATOR-HOST:5573 [--device cuda] [--run-token TOKEN]

It needs pyzmq, protobuf, numpy, torch and torchvision, and comcl_pb2.py generated from the
protocol (`protoc -I Shared/Protocol --python_out=DIR Shared/Protocol/comcl.proto`; give DIR
with --proto-dir). It holds no run configuration and no checkpoint: the model, its state and
the batch-norm groups come with the coordinator's requests.
"""
import argparse
import os
import queue
import signal
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOFTWARE = "comcl-pytorch-worker 1"


def arguments():
    parser = argparse.ArgumentParser(description="An embedding worker in PyTorch for CoMCL-Swift (docs/embedding-worker.md).")
    parser.add_argument("--coordinator", required=True, help="the coordinator's embedding-worker endpoint (control port + 3)")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when there is one)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    parser.add_argument("--tf32", action="store_true",
                        help="let CUDA convolutions and matrix products use TF32 (faster on Ampere and later, but its "
                             "10-bit mantissa moves this worker's shards about 1e-3 from ours; default: float32)")
    parser.add_argument("--worker-id", default=f"pytorch-{socket.gethostname()}:{os.getpid()}")
    parser.add_argument("--run-token", default=os.environ.get("COMCL_RUN_TOKEN", ""),
                        help="the run's token, when the coordinator has one (default: $COMCL_RUN_TOKEN)")
    parser.add_argument("--data-endpoint", default="auto",
                        help="where peers push gradient parts: auto (this machine's address towards the coordinator, "
                             "a free port), off (every step relayed through the coordinator), or tcp://ADDRESS:PORT")
    parser.add_argument("--verbose", action="store_true", help="print a line for each request as it arrives")
    parser.add_argument("--proto-dir", default=os.environ.get("COMCL_PROTO_PY", HERE), help="the folder holding comcl_pb2.py")
    return parser.parse_args()


ARGS = arguments()
sys.path.insert(0, ARGS.proto_dir)
try:
    import comcl_pb2 as pb  # noqa: E402
except ImportError:
    sys.exit(f"comcl_pb2.py is not in {ARGS.proto_dir}: generate it with "
             "protoc -I Shared/Protocol --python_out=DIR Shared/Protocol/comcl.proto, then pass --proto-dir DIR")
import torch  # noqa: E402
import zmq  # noqa: E402

from peers import DataClient, GradientPeers, Inbox, envelope  # noqa: E402
from replica import Refusal, Replica  # noqa: E402


def local_address(endpoint):
    """This machine's address on the route to the coordinator (what peers can reach)."""
    host = endpoint.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((socket.gethostbyname(host), 9))
        return probe.getsockname()[0]


class Link:
    """The coordinator link and the data endpoint, on an I/O thread of their own, so heartbeats
    go out every second while the compute thread works. Requests come out of `requests`;
    replies go back through `reply` (from the compute thread)."""

    def __init__(self, context, args, inbox):
        self.args, self.inbox, self.requests = args, inbox, queue.Queue()
        self.stopping, self.fatal = threading.Event(), None
        self.dealer = context.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 2000)
        self.dealer.connect(args.coordinator)
        self.data, self.data_endpoint = None, ""
        if args.data_endpoint != "off":
            bind = args.data_endpoint if args.data_endpoint != "auto" else f"tcp://{local_address(args.coordinator)}:*"
            self.data = context.socket(zmq.ROUTER)
            self.data.setsockopt(zmq.LINGER, 0)
            self.data.bind(bind)
            self.data_endpoint = self.data.getsockopt_string(zmq.LAST_ENDPOINT)
        self.outbox = context.socket(zmq.PAIR)
        self.outbox.bind(f"inproc://replies-{id(self)}")
        self.replies = context.socket(zmq.PAIR)  # the compute thread's end
        self.replies.connect(f"inproc://replies-{id(self)}")
        self.thread = threading.Thread(target=self.serve, name="link", daemon=True)

    def send(self, field, message):
        self.dealer.send(envelope(self.args.worker_id, field, message))

    def say_ready(self):
        self.send("ready", pb.Ready(role=pb.ROLE_EMBEDDING_WORKER, worker_id=self.args.worker_id, capacity=1,
                                    software=f"{SOFTWARE} (torch {torch.__version__}, {self.args.device})",
                                    run_token=self.args.run_token, data_endpoint=self.data_endpoint))

    def reply(self, field, message):
        self.replies.send(envelope(self.args.worker_id, field, message))

    def serve(self):
        self.say_ready()
        poller = zmq.Poller()
        for s in (self.dealer, self.outbox) + ((self.data,) if self.data else ()):
            poller.register(s, zmq.POLLIN)
        beat, sequence = time.monotonic(), 0
        while not self.stopping.is_set():
            ready = dict(poller.poll(100))
            if self.outbox in ready:
                self.dealer.send(self.outbox.recv())
            if self.dealer in ready:
                self.from_coordinator(self.dealer.recv())
            if self.data is not None and self.data in ready:
                self.from_peer(self.data.recv_multipart())
            if time.monotonic() - beat >= 1:
                sequence, beat = sequence + 1, time.monotonic()
                self.send("heartbeat", pb.Heartbeat(sequence=sequence, in_flight=0 if self.requests.empty() else 1))
        # The goodbye: the coordinator fails our pinned items now, not after 3 s of silence.
        self.send("status", pb.Status(role=pb.ROLE_EMBEDDING_WORKER, worker_id=self.args.worker_id,
                                      state=pb.SERVICE_STATE_STOPPED))
        self.dealer.close()

    def from_coordinator(self, raw):
        message = pb.Envelope()
        try:
            message.ParseFromString(raw)
        except Exception as error:  # noqa: BLE001 (any decoding failure)
            print(f"an undecodable message from the coordinator: {error}", file=sys.stderr)
            return
        body = message.WhichOneof("body")
        if message.protocol_version != pb.PROTOCOL_VERSION_CURRENT:
            self.stop(f"the coordinator speaks protocol version {message.protocol_version}, this worker {pb.PROTOCOL_VERSION_CURRENT}")
        elif body == "shutdown":
            self.stop(None)
        elif body == "error" and message.error.code == pb.ERROR_CODE_UNKNOWN_PEER:
            self.say_ready()  # the coordinator restarted
        elif body == "error" and message.error.code in (pb.ERROR_CODE_WRONG_RUN, pb.ERROR_CODE_WRONG_ROLE, pb.ERROR_CODE_PROTOCOL_VERSION):
            self.stop(f"the coordinator refused this worker: {message.error.message}")
        elif body == "error":
            print(f"the coordinator reports: {message.error.message}", file=sys.stderr)
        elif body in ("forward_request", "backward_request", "gradient_part", "state_request"):
            self.requests.put((body, getattr(message, body)))
        elif body != "heartbeat":
            self.send("error", pb.Error(code=pb.ERROR_CODE_UNSUPPORTED, message=f"an embedding worker does not take {body}"))

    def from_peer(self, frames):
        message = pb.Envelope()
        try:
            message.ParseFromString(frames[-1])
        except Exception:  # noqa: BLE001
            return
        if message.WhichOneof("body") == "gradient_part":
            self.inbox.put(message.gradient_part)  # pushes are not answered
        else:
            reply = pb.Error(code=pb.ERROR_CODE_UNSUPPORTED, message="this data endpoint takes GradientPart only")
            self.data.send_multipart([frames[0], envelope(self.args.worker_id, "error", reply)])

    def stop(self, fatal):
        self.fatal = self.fatal or fatal
        self.stopping.set()


def main():
    args = ARGS
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    # PyTorch lets cuDNN convolutions use TF32 unless told otherwise; our workers compute in float32.
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.tf32
    context = zmq.Context()
    inbox = Inbox()
    link = Link(context, args, inbox)
    fetcher = DataClient(context, args.worker_id)
    peers = GradientPeers(inbox, DataClient(context, args.worker_id)) if link.data else None
    replica = Replica(torch.device(args.device), fetcher.fetch, peers)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: link.stop(None))
    print(f"{SOFTWARE}: torch {torch.__version__} on {args.device} ({torch.get_num_threads()} CPU threads); "
          f"coordinator {args.coordinator}; data endpoint {link.data_endpoint or 'off (relayed)'}", flush=True)
    link.thread.start()
    served = 0
    while not link.stopping.is_set():
        try:
            body, request = link.requests.get(timeout=0.2)
        except queue.Empty:
            continue
        if args.verbose:
            print(f"{body} step {request.id.step}", flush=True)
        try:
            field, answer = replica.handle(body, request)
            served += 1
        except Refusal as refusal:
            field, answer = "error", pb.Error(code=refusal.code, message=str(refusal), id=request.id,
                                             data_endpoint=refusal.data_endpoint)
        except Exception as error:  # noqa: BLE001 (a bug or the device failing: said, and the worker goes on)
            field, answer = "error", pb.Error(code=pb.ERROR_CODE_INTERNAL, message=f"{type(error).__name__}: {error}", id=request.id)
        if field == "error":
            print(f"refused {body} (step {request.id.step}): {answer.message}", file=sys.stderr, flush=True)
        link.reply(field, answer)
    link.thread.join(5)
    print(f"stopped after {served} requests" + (f": {link.fatal}" if link.fatal else ""), flush=True)
    return 1 if link.fatal else 0


if __name__ == "__main__":
    sys.exit(main())
