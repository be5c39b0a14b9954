#!/usr/bin/python3
"""Reference values for the classifier losses (Tests/EvaluationTests/ClassificationLossTests.swift).

Run with Debian's python3 (python3-torch): /usr/bin/python3 make_loss_fixtures.py
Writes losses.json: logits, targets, PyTorch's loss and its gradient w.r.t. the logits, for
torch.nn.functional.cross_entropy and binary_cross_entropy_with_logits (mean reduction).
"""
import json

import torch

torch.manual_seed(7)
cases = []
for rows, classes, scale in [(6, 5, 1.0), (4, 5, 30.0), (1, 2, 0.1)]:
    logits = (torch.randn(rows, classes, dtype=torch.float64) * scale).requires_grad_()
    targets = torch.randint(0, classes, (rows,))
    loss = torch.nn.functional.cross_entropy(logits, targets)
    loss.backward()
    cases.append({"kind": "softmax", "logits": logits.detach().tolist(), "targets": targets.tolist(),
                  "loss": loss.item(), "gradient": logits.grad.tolist()})
for rows, labels, scale in [(5, 4, 1.0), (3, 3, 40.0)]:
    logits = (torch.randn(rows, labels, dtype=torch.float64) * scale).requires_grad_()
    targets = torch.randint(0, 2, (rows, labels)).to(torch.float64)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    loss.backward()
    cases.append({"kind": "binary", "logits": logits.detach().tolist(), "targets": targets.int().tolist(),
                  "loss": loss.item(), "gradient": logits.grad.tolist()})
with open("losses.json", "w") as f:
    json.dump({"format": "comcl-loss-fixture v1", "torch": torch.__version__, "cases": cases}, f, indent=1)
