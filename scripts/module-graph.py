#!/usr/bin/env python3
"""Prints the module graph from Package.swift (via `swift package dump-package`) and what breaks
the layering the house rules ask for: a domain module that depends on the wire or transport
modules, and a library below the command line (anything outside Services/) that imports
swift-argument-parser: option groups belong to the CLI layer, Services/CommandLine.

Usage: scripts/module-graph.py [--check]   (--check: exit 1 when anything breaks the rules)
"""
import json
import subprocess
import sys

# Modules that hold the product's concepts (images, datasets, the method, the encoder, scores):
# they must not know of messages or sockets.
DOMAIN = ["Domain", "Basics", "Images", "ImageOps", "Datasets", "Contrastive", "Encoder", "Metrics", "Synthetic", "Plots", "Detection", "Degradation"]
PLUMBING = {"Wire", "Transport", "CProtocol", "CProtobufC", "CZeroMQ"}
# Modules that do a service's work on messages: they may speak the wire, never sockets.
WORK = ["Augmentation", "Cropping"]
SOCKETS = {"Transport", "CZeroMQ"}
# Scoring a trained encoder needs its weights and the data, not the training code or the synthetic
# benchmark's generator.
APART = {"Evaluation": {"Training", "Synthetic"}}


def main():
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
    graph = {}
    kinds = {}
    paths = {}
    for target in package["targets"]:
        deps = []
        for d in target.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in d:
                    deps.append(d[kind][0])
        graph[target["name"]] = deps
        kinds[target["name"]] = target["type"]
        paths[target["name"]] = target.get("path") or ""

    def closure(name, seen=None):
        seen = set() if seen is None else seen
        for d in graph.get(name, []):
            if d not in seen:
                seen.add(d)
                closure(d, seen)
        return seen

    for name in sorted(graph, key=lambda n: (kinds[n], n)):
        if kinds[name] in ("regular", "executable"):
            print(f"{kinds[name]:10} {name:24} -> {', '.join(sorted(graph[name])) or '-'}")
    problems = []
    for name in DOMAIN:
        through = sorted(closure(name) & PLUMBING)
        if through:
            problems.append(f"domain module {name} depends on {', '.join(through)}")
    for name in WORK:
        through = sorted(closure(name) & SOCKETS)
        if through:
            problems.append(f"work module {name} depends on {', '.join(through)}")
    for name, others in APART.items():
        through = sorted(closure(name) & others)
        if through:
            problems.append(f"{name} depends on {', '.join(through)}")
    # The command line's own layer (Services/CommandLine) is where option groups belong.
    for name, deps in graph.items():
        if kinds[name] == "regular" and "ArgumentParser" in deps and not paths.get(name, "").startswith("Services/"):
            problems.append(f"library {name} imports ArgumentParser")
    print("\nlayering: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
    for p in problems:
        print("  " + p)
    if "--check" in sys.argv and problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
