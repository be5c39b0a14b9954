#!/usr/bin/python3
"""Can a global colour statistic tell the synthetic DR grades apart? (issue 4's check)

Fits a logistic regression on per-image colour histograms (16 bins per channel, field-of-view
pixels only) with 5-fold cross-validation and prints accuracy and quadratic-weighted kappa.
The synthetic benchmark is meant to need lesion-level vision: this baseline should do clearly
worse than a CNN trained on the same images (issue 7 runs that comparison).

Usage: /usr/bin/python3 scripts/histogram_baseline.py DATASET_DIR   (needs python3-sklearn, python3-pil)
"""
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, cohen_kappa_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def histogram(path, bins=16):
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255
    field = pixels.max(axis=2) > 20 / 255  # the same threshold as ImageOps.FieldOfView
    inside = pixels[field]
    return np.concatenate([np.histogram(inside[:, c], bins=bins, range=(0, 1), density=True)[0] for c in range(3)])


def main(directory):
    root = Path(directory)
    rows = list(csv.DictReader(open(root / "labels.csv")))
    features = np.stack([histogram(root / "images" / row["image"]) for row in rows])
    grades = np.array([int(row["DR_grade"]) for row in rows])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    predicted = cross_val_predict(model, features, grades, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    majority = np.bincount(grades).argmax()
    print(f"{len(rows)} images; 5-fold logistic regression on colour histograms:")
    print(f"  accuracy {accuracy_score(grades, predicted):.3f} (always grade {majority}: {np.mean(grades == majority):.3f})")
    print(f"  quadratic kappa {cohen_kappa_score(grades, predicted, weights='quadratic'):.3f}")
    healthy = grades > 0
    print(f"  lesion vs healthy accuracy {np.mean((predicted > 0) == healthy):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
