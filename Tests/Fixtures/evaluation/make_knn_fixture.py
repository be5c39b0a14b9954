#!/usr/bin/python3
"""Golden values for Shared/Evaluation/WeightedKNN, from scikit-learn (Debian's python3-sklearn).

solo-learn's weighted kNN (cosine similarity, each of the k nearest voting exp(cos / T)) is
scikit-learn's KNeighborsClassifier with metric="cosine" (distance 1 - cos), brute force, and
the weights exp((1 - distance) / T). Writes knn.json beside this script: features, labels and
scikit-learn's class probabilities for a grading case and a multi-label case.
Run: /usr/bin/python3 Tests/Fixtures/evaluation/make_knn_fixture.py
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.neighbors import KNeighborsClassifier

T = 0.07  # solo-learn's WeightedKNNClassifier default


def weights(distances):
    return np.exp((1.0 - distances) / T)


def fit(k, train, labels):
    return KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute", weights=weights).fit(train, labels)


rng = np.random.default_rng(7)
# Features as a pooled ReLU backbone gives them: non-negative, a few clusters, one per grade.
centres = rng.uniform(0, 1, size=(5, 24))
train_labels = rng.integers(0, 5, size=80)
test_labels = rng.integers(0, 5, size=30)
train = np.abs(centres[train_labels] + rng.normal(0, 0.35, size=(80, 24))).astype(np.float32)
test = np.abs(centres[test_labels] + rng.normal(0, 0.35, size=(30, 24))).astype(np.float32)

cases = {"sklearn": sklearn.__version__, "temperature": T, "train": train.tolist(), "test": test.tolist()}
grading = {}
for k in (1, 5, 20):
    model = fit(k, train.astype(np.float64), train_labels)
    grading[str(k)] = model.predict_proba(test.astype(np.float64)).tolist()  # classes 0-4, all present
cases["grading"] = {"labels": train_labels.tolist(), "probabilities": grading}

# Multi-label: each label a separate two-class vote (scikit-learn fits one per column).
positives = rng.random(size=(80, 3)) < np.array([0.2, 0.5, 0.7])
scores = []
for column in range(3):
    model = fit(20, train.astype(np.float64), positives[:, column].astype(int))
    scores.append(model.predict_proba(test.astype(np.float64))[:, 1])
cases["multilabel"] = {"positives": positives.astype(int).tolist(), "k": 20, "scores": np.stack(scores, axis=1).tolist()}

out = pathlib.Path(__file__).with_name("knn.json")
out.write_text(json.dumps(cases) + "\n")
print(f"wrote {out}")
