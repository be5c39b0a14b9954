"""One data-parallel replica of the encoder and its side of the embedding-worker contract
(docs/embedding-worker.md): ForwardRequest -> Embeddings, BackwardRequest -> the sum with the
peers -> the update -> StepApplied (or, relayed, ParameterGradients and later the coordinator's
sum as a GradientPart request), StateRequest -> StateReply.

The state lives here in the contract's layout (NumPy float32, by state-dict name), and the
network on the device is a copy of its weights: the forward and backward run on the device, the
update (update.py) on the CPU, where its bits can be ours."""
import time

import numpy as np
import torch

import comcl_pb2 as pb
import network
import update

FIELD = (1 << 20) - 1
PHASES = {"forward": 0, "backward": 1, "apply": 2, "state": 3}


class Refusal(Exception):
    """A request this replica does not serve: `code` is the contract's error code."""

    def __init__(self, code, message, data_endpoint=""):
        super().__init__(message)
        self.code, self.data_endpoint = code, data_endpoint


def unavailable(message, data_endpoint=""):
    return Refusal(pb.ERROR_CODE_UNAVAILABLE, message, data_endpoint)


def bad_input(message):
    return Refusal(pb.ERROR_CODE_BAD_INPUT, message)


def shard_of(work_id):
    """(phase, attempt, shard) of an embedding-link work id: item = phase << 40 | attempt << 20 | shard."""
    return work_id.item >> 40, (work_id.item >> 20) & FIELD, work_id.item & FIELD


def same_shard(a, b, phase_a, phase_b):
    """Whether `a` (in phase_a) and `b` (in phase_b) are one shard's phases: the same run, step,
    attempt and shard."""
    (pa, attempt_a, shard_a), (pb_, attempt_b, shard_b) = shard_of(a), shard_of(b)
    return (pa, pb_) == (phase_a, phase_b) and (a.run, a.step, attempt_a, shard_a) == (b.run, b.step, attempt_b, shard_b)


def tensor(values, shape):
    return pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=list(shape), data=np.ascontiguousarray(values, dtype="<f4").tobytes())


def floats(t, what):
    if t.dtype != pb.DTYPE_FLOAT32 or len(t.data) != 4 * int(np.prod(t.shape, dtype=np.int64)):
        raise bad_input(f"{what}: expected float32 data matching its shape {list(t.shape)}")
    return np.frombuffer(t.data, dtype="<f4").copy()


class Replica:
    def __init__(self, device, fetch, peers):
        """`fetch(endpoint, ids)` -> {(run, step, item): ViewPair}; `peers`: a GradientPeers, or
        None for a worker without a data endpoint (every step relayed)."""
        self.device, self.fetch, self.peers = device, fetch, peers
        self.model_name, self.net = None, None
        self.version, self.checksum = None, 0
        self.state, self.names, self.trainable, self.adam = {}, [], [], None
        self.held = self.relayed = None

    def handle(self, body, request):
        kind = {"forward_request": self.forward, "backward_request": self.backward, "gradient_part": self.apply_relayed,
                "state_request": self.state_reply}.get(body)
        if kind is None:
            raise Refusal(pb.ERROR_CODE_UNSUPPORTED, f"an embedding worker answers ForwardRequest, BackwardRequest, GradientPart and StateRequest, not {body}")
        return kind(request)

    # --- forward ---------------------------------------------------------------------------

    def forward(self, request):
        started = time.monotonic()
        phase, _, _ = shard_of(request.id)
        if phase != PHASES["forward"]:
            raise bad_input(f"{request.id.item} is not a forward shard id")
        if request.model != self.model_name:
            try:
                net = network.build(request.model)
            except ValueError as error:
                raise bad_input(str(error)) from None
            self.net = net.to(self.device).train()
            self.model_name, self.version, self.state, self.adam = request.model, None, {}, None
        self.held = self.relayed = None
        if request.HasField("state") and request.state.version != self.version:
            self.version = None  # a state that fails to load leaves no version behind
            self.load(request.state)
        if self.version != request.weights_version:
            raise unavailable(f"needs weights version {request.weights_version}; this replica holds "
                              f"{'none' if self.version is None else self.version} and the request carries no state")
        x = self.inputs(request)
        z = network.embed(self.net, x, request.bn_group)
        self.held = (request.id, x.shape[0], z)
        out = z.detach().to("cpu", torch.float32).numpy()
        return "embeddings", pb.Embeddings(
            id=request.id, embeddings=tensor(out, out.shape), sample=list(request.sample), weights_version=self.version,
            weights_checksum=self.checksum, compute_s=time.monotonic() - started)

    def inputs(self, request):
        """The shard's 2n views, block by block: G first views, then the same G patches' second
        views (the batch-norm groups), as one float32 [2n, 3, H, W] tensor on the device."""
        pairs, stored = {}, {}
        key = lambda i: (i.run, i.step, i.item)  # noqa: E731
        for source in request.sources:
            if source.endpoint:
                stored.setdefault(source.endpoint, []).append(source.id)
            else:
                pairs[key(source.id)] = (source.first, source.second)
        for endpoint, ids in stored.items():
            for k, pair in self.fetch(endpoint, ids).items():
                pairs[k] = (pair.first, pair.second)
        n = len(request.sources)
        if n == 0:
            raise bad_input("a forward request without views")
        views = []
        for source in request.sources:
            if key(source.id) not in pairs:
                raise bad_input(f"no views for item {source.id.item}")
            views.append(pairs[key(source.id)])
        shape = list(views[0][0].shape)
        if len(shape) != 3 or shape[0] != 3 or min(shape[1:]) < 32 or any(
                list(v.shape) != shape or v.dtype != pb.DTYPE_FLOAT32 for pair in views for v in pair):
            raise bad_input(f"views must be float32 [3, H, W] of one size with H, W >= 32, got {shape}")
        g = request.bn_group or n
        if n % g:
            raise bad_input(f"{n} patches are not whole batch-norm groups of {g}")
        rows = []
        for block in range(0, n, g):
            for second in (0, 1):
                rows += [floats(views[i][second], "a view").reshape(shape) for i in range(block, block + g)]
        return torch.from_numpy(np.stack(rows)).to(self.device)

    # --- state -------------------------------------------------------------------------------

    def load(self, state):
        """The coordinator's state: every tensor by name in our layout, checked against the
        network and the checksum, then copied into the network; Adam's moments kept."""
        expected = [(name, tuple(t.shape)) for name, t in self.net.state_dict().items()]
        given = [(t.name, tuple(t.tensor.shape)) for t in state.tensors]
        if given != expected:
            wrong = next((f"{g} where the model has {e}" for g, e in zip(given, expected) if g != e),
                         f"{len(given)} tensors where the model has {len(expected)}")
            raise bad_input(f"model state {state.version}: {wrong}")
        values = {t.name: floats(t.tensor, t.name) for t in state.tensors}
        mine = update.checksum(values.values())
        if mine != state.checksum:
            raise bad_input(f"model state {state.version}: checksum {mine:x} after loading, the coordinator's is {state.checksum:x}")
        parameters = dict(self.net.named_parameters())
        self.names = [name for name, _ in given]
        self.trainable = [name for name in self.names if name in parameters]
        self.shapes = dict(given)
        try:
            self.adam = update.Adam(state.optimizer, self.trainable)
        except ValueError as error:
            raise bad_input(f"model state {state.version}: {error}") from None
        self.state = values
        self.copy_weights()
        self.version, self.checksum = state.version, state.checksum

    def copy_weights(self):
        parameters = dict(self.net.named_parameters())
        with torch.no_grad():
            for name in self.trainable:
                parameters[name].copy_(network.from_ours(self.state[name], self.shapes[name]))

    def state_reply(self, request):
        if self.version is None:
            raise unavailable("this replica holds no state yet")
        tensors = [pb.NamedTensor(name=n, tensor=tensor(self.state[n], self.shapes[n])) for n in self.names]
        state = pb.ReplicaState(version=self.version, tensors=tensors, checksum=self.checksum,
                                optimizer=self.adam.encoded(self.trainable))
        return "state_reply", pb.StateReply(id=request.id, state=state)

    # --- backward and the step ---------------------------------------------------------------

    def backward(self, request):
        started = time.monotonic()
        phase, _, me = shard_of(request.id)
        if phase != PHASES["backward"]:
            raise bad_input(f"{request.id.item} is not a backward shard id")
        held = self.held
        if held is None or not same_shard(held[0], request.id, PHASES["forward"], PHASES["backward"]) \
                or self.version != request.weights_version:
            raise unavailable(f"no activations for step {request.id.step} shard {me}")
        _, rows, z = held
        if list(request.embedding_gradient.shape) != [rows, network.EMBEDDING]:
            raise bad_input(f"expected dL/d(embedding) of [{rows}, {network.EMBEDDING}], got {list(request.embedding_gradient.shape)}")
        self.held = None  # a backward consumes the activations
        dz = torch.from_numpy(floats(request.embedding_gradient, "dL/d(embedding)").reshape(rows, -1)).to(self.device)
        self.net.zero_grad(set_to_none=False)
        z.backward(dz)
        parameters = dict(self.net.named_parameters())
        gradients = [network.to_ours(parameters[n].grad) for n in self.trainable]
        statistics = self.statistics()
        if not request.peers:
            self.relayed = (request.id, rows, request.learning_rate, started)
            named = [pb.NamedTensor(name=n, tensor=tensor(g, self.shapes[n])) for n, g in zip(self.trainable, gradients)]
            return "parameter_gradients", pb.ParameterGradients(
                id=request.id, gradients=named, batch_norm=statistics, weights_version=request.weights_version,
                samples=rows, compute_s=time.monotonic() - started)
        flat = np.concatenate(gradients)
        shards, waited = [statistics], 0.0
        if len(request.peers) > 1:
            if self.peers is None:
                raise bad_input(f"summing with {len(request.peers) - 1} peers, and this replica has no data endpoint")
            timeout = max(10.0, 4 * (time.monotonic() - started))
            flat, shards, waited = self.peers.sum(flat, statistics, request.id, list(request.peers), timeout)
        self.take(flat, shards, request.learning_rate)
        return "step_applied", pb.StepApplied(
            id=request.id, weights_version=self.version, weights_checksum=self.checksum, samples=rows,
            compute_s=time.monotonic() - started - waited, exchange_s=waited)

    def statistics(self):
        out = []
        for layer, bn in enumerate(network.batch_norms(self.net)):
            mean, variance = (s.to("cpu", torch.float32).numpy() for s in bn.statistics)
            out.append(pb.BatchNormStatistics(layer=layer, mean=tensor(mean, mean.shape), variance=tensor(variance, variance.shape)))
        return out

    def apply_relayed(self, part):
        started = time.monotonic()
        phase, _, _ = shard_of(part.id)
        if phase != PHASES["apply"] or not part.sum or part.offset != 0:
            raise bad_input("not a relayed sum of a whole gradient")
        relayed = self.relayed
        if relayed is None or not same_shard(relayed[0], part.id, PHASES["backward"], PHASES["apply"]):
            raise unavailable(f"no relayed backward for step {part.id.step}")
        self.relayed = None
        self.take(floats(part.values, "the relayed sum"), [list(part.batch_norm)], relayed[2])
        return "step_applied", pb.StepApplied(
            id=part.id, weights_version=self.version, weights_checksum=self.checksum, samples=relayed[1],
            compute_s=time.monotonic() - started, exchange_s=started - relayed[3])

    def take(self, flat, shards, learning_rate):
        """The update from the summed gradient: Adam, then every shard's batch-norm groups replayed
        into the running statistics in shard and group order; the next version."""
        sizes = [self.state[n].size for n in self.trainable]
        if flat.size != sum(sizes):
            raise bad_input(f"a summed gradient of {flat.size} values; the model has {sum(sizes)}")
        norms = network.batch_norms(self.net)
        bn_names = [n[: -len(".running_mean")] for n in self.names if n.endswith(".running_mean")]
        for index, shard in enumerate(shards):
            if len(shard) != len(norms):
                raise bad_input(f"shard {index}: statistics of {len(shard)} batch-norm layers, the model has {len(norms)}")
        groups = []  # every layer's groups of every shard, in shard order: checked before anything changes
        for layer, name in enumerate(bn_names):
            channels = self.state[f"{name}.running_mean"].size
            try:
                groups.append([np.concatenate([floats(getattr(s[layer], k), f"batch-norm layer {layer}").reshape(-1, channels)
                                               for s in shards]) for k in ("mean", "variance")])
            except ValueError:
                raise bad_input(f"batch-norm layer {layer}: statistics that are not [groups, {channels}]") from None
        gradients, offset = {}, 0
        for name, size in zip(self.trainable, sizes):
            gradients[name] = flat[offset:offset + size]
            offset += size
        current, self.version = self.version, None  # a step that fails halfway leaves no version behind
        self.adam.update({n: self.state[n] for n in self.trainable}, gradients, learning_rate)
        for name, (mean, variance) in zip(bn_names, groups):
            update.replay(self.state[f"{name}.running_mean"], self.state[f"{name}.running_var"], mean, variance)
        self.copy_weights()
        self.version, self.checksum = current + 1, update.checksum(self.state[n] for n in self.names)
