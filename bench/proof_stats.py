#!/usr/bin/python3
"""Leaf kinds of the INFEASIBLE proofs in a bench run's saved responses.

    bench/proof_stats.py OUT/responses [--markdown]

For every saved SolveResponse (run_bench.py writes them to OUT/responses),
counts the case tree's leaves by kind (how many subtrees each certificate kind
closed), the largest product certificate (terms), the largest ratio-box split
tree (boxes closed) and the server's check time,
and prints a per-instance table and the totals.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

KINDS = ["KIND_LP_INFEASIBLE", "KIND_UNREALIZABLE", "KIND_PINNED_DIRECTION", "KIND_PRODUCTS",
         "KIND_RATIO_BOXES", "FEATURE_SPAN", "RANK"]
SHORT = {"KIND_LP_INFEASIBLE": "LP Farkas", "KIND_UNREALIZABLE": "unrealizable",
         "KIND_PINNED_DIRECTION": "pinned", "KIND_PRODUCTS": "products", "KIND_RATIO_BOXES": "ratio boxes",
         "FEATURE_SPAN": "feature span (whole proofs)", "RANK": "labels' rank (whole proofs)"}


def stats(response: dict) -> dict:
    leaves = collections.Counter()
    largest = 0
    boxes = 0
    cert = response.get("certificate", {})
    tree = cert.get("case_tree", {})
    if "featureSpan" in cert or "feature_span" in cert:
        # A whole-instance proof (FeatureSpan): lambda and 2^n activation sets, or rank alone.
        span = cert.get("featureSpan", cert.get("feature_span", {}))
        leaves["FEATURE_SPAN" if span.get("lambda") else "RANK"] += 1
    for case in tree.get("cases", []):
        for node in case.get("nodes", []):
            kind = node.get("kind", "KIND_UNSPECIFIED")
            if kind != "KIND_BRANCH":
                leaves[kind] += 1
            if kind == "KIND_PRODUCTS":
                largest = max(largest, len(node.get("products", [])))
            if kind == "KIND_RATIO_BOXES":
                closed = sum(1 for b in node.get("boxes", []) if b.get("kind") != "KIND_SPLIT")
                boxes = max(boxes, closed)
    st = response.get("statistics", {})
    return {"verdict": response.get("verdict", "?").replace("VERDICT_", ""), "leaves": leaves,
            "largest": largest, "boxes": boxes, "check": float(st.get("check_seconds", 0.0)),
            "solve": float(st.get("solve_seconds", 0.0))}


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("responses", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for path in sorted(args.responses.glob("*.json")):
        try:
            rows.append((path.stem, stats(json.loads(path.read_text()))))
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
    print("| instance | verdict | " + " | ".join(SHORT[k] for k in KINDS) +
          " | largest product certificate (terms) | largest ratio-box tree (boxes) | solve s | check s |")
    print("|---|---|" + "---|" * len(KINDS) + "---|---|---|---|")
    total = collections.Counter()
    largest = 0
    boxes = 0
    check = 0.0
    for name, s in rows:
        if s["verdict"] != "INFEASIBLE":
            continue
        total.update(s["leaves"])
        largest = max(largest, s["largest"])
        boxes = max(boxes, s["boxes"])
        check = max(check, s["check"])
        print(f"| {name} | {s['verdict']} | " + " | ".join(str(s["leaves"][k]) for k in KINDS) +
              f" | {s['largest'] or ''} | {s['boxes'] or ''} | {s['solve']:.2f} | {s['check']:.2f} |")
    print()
    print("Subtrees closed, by certificate kind, over all INFEASIBLE answers: " +
          ", ".join(f"{SHORT[k]} {total[k]}" for k in KINDS) +
          f"; largest product certificate {largest} terms; largest ratio-box tree {boxes} boxes;"
          f" longest check {check:.2f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
