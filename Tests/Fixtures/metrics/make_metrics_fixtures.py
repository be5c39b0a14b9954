#!/usr/bin/python3
"""Golden values for Shared/Metrics and `comcl score`, from scikit-learn (Debian's python3-sklearn).

Writes metrics.json beside this script: each case's inputs and scikit-learn's answers.
Run: /usr/bin/python3 Tests/Fixtures/metrics/make_metrics_fixtures.py
Undefined values (kappa when truth and predictions hold one class; AUC when a label has one
class in the truth) are written as null: scikit-learn gives nan or raises for them.
"""
import json
import math
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, recall_score, roc_auc_score

GRADES = [0, 1, 2, 3, 4]  # DR grading's five classes, fixed (docs/method.md section 6)


def number(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def grading(name, truth, pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kappa = cohen_kappa_score(truth, pred, weights="quadratic", labels=GRADES)
        recall = recall_score(truth, pred, labels=GRADES, average=None, zero_division=0)
    present = set(truth)
    return {
        "name": name, "task": "grading", "truth": [int(v) for v in truth], "predicted": [int(v) for v in pred],
        "accuracy": float(accuracy_score(truth, pred)),
        "quadratic_kappa": number(kappa),
        "confusion": confusion_matrix(truth, pred, labels=GRADES).tolist(),
        # recall of a grade absent from the truth is undefined (null)
        "per_grade_recall": [number(r) if g in present else None for g, r in zip(GRADES, recall)],
    }


def multilabel(name, labels, truth, scores, threshold=0.5):
    truth, scores = np.asarray(truth), np.asarray(scores)
    predicted = (scores >= threshold).astype(int)
    per = []
    for j, label in enumerate(labels):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kappa = cohen_kappa_score(truth[:, j], predicted[:, j])
        auc = roc_auc_score(truth[:, j], scores[:, j]) if len(set(truth[:, j])) == 2 else None
        per.append({"label": label, "accuracy": float(accuracy_score(truth[:, j], predicted[:, j])), "kappa": number(kappa), "auc": number(auc)})
    return {
        "name": name, "task": "multilabel", "labels": labels, "threshold": threshold,
        "truth": truth.tolist(), "scores": scores.tolist(), "per_label": per,
    }


rng = np.random.default_rng(7)
cases = []
truth = rng.integers(0, 5, 200)
noisy = np.clip(truth + rng.integers(-1, 2, 200) * (rng.random(200) < 0.4), 0, 4)
cases.append(grading("grading-random", truth, noisy))
truth = rng.choice([0, 2, 4], 60)  # grades 1 and 3 absent from both: weights still use grade values
cases.append(grading("grading-missing-grades", truth, rng.choice([0, 2, 4], 60)))
cases.append(grading("grading-one-class", [2] * 10, [2] * 10))
cases.append(grading("grading-perfect", list(range(5)) * 4, list(range(5)) * 4))

labels = ["Atelectasis", "Effusion", "Infiltration", "Nodule"]
y = (rng.random((150, 4)) < [0.2, 0.3, 0.5, 0.1]).astype(int)
s = np.clip(y * 0.3 + rng.random((150, 4)) * 0.7, 0, 1).round(1)  # rounded: many ties
cases.append(multilabel("multilabel-ties", labels, y, s))
y = (rng.random((40, 3)) < 0.4).astype(int)
y[:, 2] = 0  # a label nobody has: AUC undefined
cases.append(multilabel("multilabel-one-class-label", ["Mass", "Edema", "Hernia"], y, rng.random((40, 3)).round(3)))

out = pathlib.Path(__file__).with_name("metrics.json")
out.write_text(json.dumps({
    "format": "comcl-metrics-fixture", "version": 1, "generator": "make_metrics_fixtures.py",
    "sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases,
}, indent=1) + "\n")
print(f"wrote {out} ({len(cases)} cases)")
