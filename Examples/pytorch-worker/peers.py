"""The data plane of a PyTorch replica: the inbox its peers push gradient parts into, the sum
with the peers, and fetching views from the augmenters' data endpoints
(docs/embedding-worker.md, "The sum, among the workers")."""
import threading
import time

import numpy as np
import zmq

import comcl_pb2 as pb
import update
from replica import FIELD, floats, shard_of, tensor, unavailable, bad_input


def envelope(sender, field, message):
    e = pb.Envelope(protocol_version=pb.PROTOCOL_VERSION_CURRENT, sender=sender)
    getattr(e, field).CopyFrom(message)
    return e.SerializeToString()


class Inbox:
    """Gradient parts pushed to this worker's data endpoint, by (sender id, sum), until taken."""
    LIMIT = 256  # as ours: two steps of 64 peers' two kinds

    def __init__(self):
        self.parts, self.condition = {}, threading.Condition()

    @staticmethod
    def key(work_id, is_sum):
        return work_id.run, work_id.step, work_id.item, is_sum

    def put(self, part):
        with self.condition:
            self.parts[self.key(part.id, part.sum)] = part
            if len(self.parts) > self.LIMIT:
                for k in sorted(self.parts, key=lambda k: (k[1], k[2]))[:len(self.parts) - self.LIMIT]:
                    del self.parts[k]
            self.condition.notify_all()

    def take(self, senders, is_sum, timeout):
        """The parts from every sender, in order, once all are in; None after `timeout` s."""
        keys = [self.key(s, is_sum) for s in senders]
        deadline = time.monotonic() + timeout
        with self.condition:
            while not all(k in self.parts for k in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.condition.wait(left)
            return [self.parts.pop(k) for k in keys]

    def missing(self, senders, is_sum):
        with self.condition:
            return [s for s in senders if self.key(s, is_sum) not in self.parts]

    def discard_before(self, run, step, attempt):
        with self.condition:
            for k in [k for k in self.parts if k[0] != run or (k[1], (k[2] >> 20) & FIELD) < (step, attempt)]:
                del self.parts[k]


class DataClient:
    """DEALER sockets to other workers' data endpoints, used from the compute thread only."""

    def __init__(self, context, name, timeout=30.0):
        self.context, self.name, self.timeout, self.sockets = context, name, timeout, {}

    def socket(self, endpoint):
        if endpoint not in self.sockets:
            s = self.context.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 1000)
            s.connect(endpoint)
            self.sockets[endpoint] = s
        return self.sockets[endpoint]

    def reset(self, endpoint):
        s = self.sockets.pop(endpoint, None)
        if s is not None:
            s.close(linger=0)

    def push(self, part, endpoint):
        self.socket(endpoint).send(envelope(self.name, "gradient_part", part))

    def fetch(self, endpoint, ids):
        """{(run, step, item): ViewPair} of `ids` kept at `endpoint`, 64 ids a request (as ours)."""
        found, s = {}, self.socket(endpoint)
        chunks = [ids[i:i + 64] for i in range(0, len(ids), 64)]
        for chunk in chunks:
            s.send(envelope(self.name, "fetch", pb.Fetch(ids=chunk)))
        for _ in chunks:  # a DEALER gets its answers in the order it asked
            if not s.poll(int(self.timeout * 1000)):
                self.reset(endpoint)
                raise unavailable(f"{endpoint} did not answer a fetch within {self.timeout:g} s", endpoint)
            reply = pb.Envelope()
            reply.ParseFromString(s.recv())
            if reply.WhichOneof("body") != "fetched":
                self.reset(endpoint)
                message = reply.error.message if reply.WhichOneof("body") == "error" else reply.WhichOneof("body")
                raise unavailable(f"{endpoint} refused a fetch: {message}", endpoint)
            if reply.fetched.missing:
                raise unavailable(f"{endpoint} no longer keeps {len(reply.fetched.missing)} of the views", endpoint)
            for pair in reply.fetched.pairs:
                found[(pair.id.run, pair.id.step, pair.id.item)] = pair
        return found


class GradientPeers:
    """The step's gradient summed with the other shards' workers: each owns one slice, adds every
    shard's part of it in shard order from zeros and pushes the sum, with its batch-norm
    statistics, to every other."""

    def __init__(self, inbox, client):
        self.inbox, self.client = inbox, client

    def sum(self, flat, statistics, work_id, endpoints, timeout):
        """(the whole sum, every shard's statistics in shard order, seconds waited)."""
        n = len(endpoints)
        _, attempt, me = shard_of(work_id)
        if me >= n:
            raise bad_input(f"shard {me} of {n} peers")
        cuts = update.slices(flat.size, n)
        senders = [pb.WorkId(run=work_id.run, step=work_id.step, item=(1 << 40) | (attempt << 20) | k) for k in range(n)]
        others = [k for k in range(n) if k != me]
        self.inbox.discard_before(work_id.run, work_id.step, attempt)

        def receive(shards, is_sum):
            parts = self.inbox.take([senders[k] for k in shards], is_sum, timeout)
            if parts is None:
                late = {Inbox.key(s, is_sum) for s in self.inbox.missing([senders[k] for k in shards], is_sum)}
                gone = [f"shard {k} at {endpoints[k]}" for k in shards if Inbox.key(senders[k], is_sum) in late]
                raise unavailable(f"no {'sum' if is_sum else 'gradient'} from {', '.join(gone)} within {int(timeout)} s")
            for k, part in zip(shards, parts):
                cut = cuts[k if is_sum else me]
                if part.offset != cut.start or list(part.values.shape) != [len(cut)]:
                    raise bad_input(f"shard {k}'s part starts at {part.offset} with {list(part.values.shape)} values; expected its slice")
            return parts

        def send(part, k):
            try:
                self.client.push(part, endpoints[k])
            except zmq.ZMQError as error:
                raise unavailable(f"cannot send to shard {k}'s worker at {endpoints[k]}: {error}") from None

        for k in others:
            values = flat[cuts[k].start:cuts[k].stop]
            send(pb.GradientPart(id=senders[me], sum=False, offset=cuts[k].start, values=tensor(values, [values.size])), k)
        mark = time.monotonic()
        contributions = iter(receive(others, False))
        waited = time.monotonic() - mark
        mine_cut = cuts[me]
        parts = [flat[mine_cut.start:mine_cut.stop] if k == me else floats(next(contributions).values, "a gradient part")
                 for k in range(n)]
        mine = update.add_in_order(parts, len(mine_cut))
        summed = pb.GradientPart(id=senders[me], sum=True, offset=mine_cut.start, values=tensor(mine, [mine.size]),
                                 batch_norm=statistics)
        for k in others:
            send(summed, k)
        mark = time.monotonic()
        sums = iter(receive(others, True))
        waited += time.monotonic() - mark
        whole, shards = [], []
        for k in range(n):
            if k == me:
                whole.append(mine)
                shards.append(statistics)
            else:
                part = next(sums)
                whole.append(floats(part.values, "a summed part"))
                shards.append(list(part.batch_norm))
        return np.concatenate(whole), shards, waited
