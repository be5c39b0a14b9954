"""NumPy reference for the multi-level contrastive loss with self-paced hard negatives
(docs/method.md sections 3-4), and the fixtures the Swift tests compare against.

Run with any python3 that has numpy:
    python3 Tests/Fixtures/contrastive/multilevel_loss_reference.py
Writes beside this script:
- multilevel_loss.safetensors: raw embeddings (2N x D, float32), levels, and for each case the
  per-pairing losses, K_t, selected anchors, the total and dL/dz for the normalised embeddings;
  each case's settings are in the metadata.
- embeddings.npy / levels.npy: the same inputs as files for `comcl loss`.
Written in float64 and independently of the Swift code: sort by similarity (ties to the lower
index), keep K_t, log-sum-exp, NumPy's linear quantile, gradients by hand, then checked here
against central finite differences.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "encoder"))
import safetensors_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"L": 0, "L~": 1, "H": 2, "H~": 3}
COMCL = [("L", "L~"), ("L", "H"), ("L~", "H~")]


def k_t(delta, t, total, k_min):
    k = math.floor(delta * math.cos(math.pi * t / (2 * total)))
    return min(delta, max(k_min, k))


def loss_and_grad(z, levels, t, total, tau=0.07, k_min=1, mode="quantile", rho0=0.5,
                  pairings=COMCL, weights=None, spl=True):
    n = len(levels)
    first, second = z[:n], z[n:]
    grad = np.zeros_like(z)
    out = {"losses": [], "k": [], "selected": [], "total": 0.0, "cosines": []}
    weights = weights or [1.0] * len(pairings)
    for (m, neg), w in zip(pairings, weights):
        anchors = np.flatnonzero(levels == LEVELS[m])
        negatives = np.flatnonzero(levels == LEVELS[neg])
        delta = len(negatives)
        selected = np.zeros(n, dtype=np.int64)
        if len(anchors) == 0 or delta == 0:
            out["losses"].append(0.0); out["k"].append(0); out["selected"].append(selected); out["cosines"].append([0.0, 0.0])
            continue
        # "Is it learning?": each anchor's two views, and each anchor against all its negatives.
        out["cosines"].append([float(np.mean([first[i] @ second[i] for i in anchors])),
                               float(np.mean([np.mean(first[negatives[negatives != i]] @ first[i]) for i in anchors]))])
        k = k_t(delta, t, total, k_min) if spl else delta
        per_anchor, parts = [], []
        for i in anchors:
            pos = first[i] @ second[i] / tau
            sims = first[negatives] @ first[i] / tau
            order = np.argsort(-sims, kind="stable")[:k]
            kept = negatives[order]
            logits = np.concatenate([[pos], sims[order]])
            top = logits.max()
            lse = top + math.log(np.exp(logits - top).sum())
            per_anchor.append(lse - pos)
            parts.append((i, kept, np.exp(logits - lse)))
        per_anchor = np.array(per_anchor)
        if not spl:
            chosen = np.ones(len(anchors), dtype=bool)
        elif mode == "quantile":
            rho = 1 - (1 - rho0) * k / delta
            chosen = per_anchor <= np.quantile(per_anchor, rho)
        else:
            chosen = per_anchor < 1.0 / k
        count = int(chosen.sum())
        value = float(per_anchor[chosen].mean()) if count else 0.0
        out["losses"].append(value); out["k"].append(k)
        for (i, kept, p), c in zip(parts, chosen):
            if not c:
                continue
            selected[i] = 1
            scale = w / count / tau
            grad[i] += scale * ((p[0] - 1) * second[i] + p[1:] @ first[kept])
            grad[n + i] += scale * (p[0] - 1) * first[i]
            grad[kept] += scale * np.outer(p[1:], first[i])
        out["selected"].append(selected)
        out["total"] += w * value
    out["grad"] = grad
    other = first @ first.T
    out["similarity"] = [float(np.mean(np.sum(first * second, axis=1))), float(other[np.triu_indices(n, 1)].mean())]
    return out


def normalise(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main():
    rng = np.random.default_rng(7)
    counts = {"L": 7, "L~": 5, "H": 6, "H~": 6}
    levels = np.array(sum([[LEVELS[k]] * c for k, c in counts.items()], []), dtype=np.int64)
    rng.shuffle(levels)
    n, d = len(levels), 16
    # Views of one patch are close; levels differ by a shared offset, so the sims are not uniform.
    centres = rng.normal(size=(4, d))
    base = 0.5 * centres[levels] + rng.normal(size=(n, d))
    raw = np.concatenate([base + rng.normal(scale=1.1, size=(n, d)), base + rng.normal(scale=1.1, size=(n, d))]).astype(np.float32)
    z = normalise(raw.astype(np.float64))

    CASES = {
        "start_quantile": dict(t=0, total=30, mode="quantile"),
        "middle_quantile": dict(t=10, total=30, mode="quantile"),
        "end_quantile": dict(t=30, total=30, mode="quantile"),
        "middle_paper": dict(t=20, total=30, mode="paper"),
        "no_spl": dict(t=10, total=30, spl=False),
        "tau_kmin_weights": dict(t=25, total=30, tau=0.2, k_min=3, weights=[1.0, 0.5, 2.0]),
        "no_multilevel": dict(t=5, total=30, pairings=None),
    }

    def evaluate(q, settings):
        if "pairings" in settings:
            # Lesion vs healthy only: levels merged (L, L~ -> lesion; H, H~ -> healthy).
            rest = {k: v for k, v in settings.items() if k != "pairings"}
            return loss_and_grad(q, np.where(levels <= 1, 0, 2), pairings=[("L", "H")], **rest)
        return loss_and_grad(q, levels, **settings)


    tensors = {"embeddings": raw, "levels": levels}
    meta = {}
    for name, case in CASES.items():
        result = evaluate(z, case)
        # Central finite differences of the total on a few coordinates (the selection does not
        # change under so small a step): the hand-written gradient must agree.
        eps = 1e-6
        for r, c in [(0, 0), (3, 5), (n + 2, 7), (n + 11, 15), (17, 2)]:
            zp, zm = z.copy(), z.copy()
            zp[r, c] += eps
            zm[r, c] -= eps
            numeric = (evaluate(zp, case)["total"] - evaluate(zm, case)["total"]) / (2 * eps)
            assert abs(numeric - result["grad"][r, c]) < 1e-6, (name, r, c, numeric, result["grad"][r, c])
        tensors[f"{name}.losses"] = np.array(result["losses"])
        tensors[f"{name}.k"] = np.array(result["k"], dtype=np.int64)
        tensors[f"{name}.selected"] = np.stack(result["selected"])
        tensors[f"{name}.total"] = np.array([result["total"]])
        tensors[f"{name}.grad"] = result["grad"]
        tensors[f"{name}.cosines"] = np.array(result["cosines"])
        tensors[f"{name}.similarity"] = np.array(result["similarity"])
        meta[name] = case

    safetensors_io.save(os.path.join(HERE, "multilevel_loss.safetensors"), tensors, metadata={
        "format": "comcl-contrastive-fixture", "version": "2", "cases": json.dumps(meta, sort_keys=True),
        "numpy": np.__version__,
    })
    np.save(os.path.join(HERE, "embeddings.npy"), raw)
    np.save(os.path.join(HERE, "levels.npy"), levels)
    print("wrote", len(CASES), "cases; finite differences agree")


if __name__ == "__main__":
    main()
