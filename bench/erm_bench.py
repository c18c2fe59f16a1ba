#!/usr/bin/python3
"""Issue 15 measurements: exact least training error and smallest width.

1. Writes the bench grid's planted instances (run_bench.py --generate-only,
   default grid, one output only: Minimize is exact for output_dim 1).
2. Perturbs their labels (deterministically from --seed: every third sample's
   label moved by +-1) so that the optimum is not zero, and asks `relufit
   minimize` for each loss (linf, l1, l2) at the planted width: the optimum,
   the time, the nodes, and `relufit verify` on the answer.
3. For comparison, the plain zero-error decision (`relufit solve`) of the same
   perturbed data and of the unperturbed data.
4. `relufit min-width` on the unperturbed planted instances (width found <=
   planted width, proof below it), verified with `relufit verify`.

Writes a Markdown table to stdout (and --out FILE). Times are wall-clock
seconds of the client call (RPC, solve and server-side check). Start
relufit-server yourself and pass --server, or let the script start one
(--server-bin).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(cmd, timeout):
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t


def start_server(server_bin, work):
    log = open(work / "server.log", "w")
    proc = subprocess.Popen([server_bin, "--listen", "127.0.0.1:0", "--store", str(work / "jobs.sqlite3"),
                             "--max-time-limit", "3600"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(150):
        m = re.search(r"listening on \S+ \(port (\d+)\)", (work / "server.log").read_text())
        if m:
            return proc, f"127.0.0.1:{m.group(1)}"
        time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start: " + (work / "server.log").read_text())


def perturb(req: dict, seed: int) -> dict:
    rng = random.Random(seed)
    out = json.loads(json.dumps(req))
    for i, s in enumerate(out["dataset"]["samples"]):
        if i % 3 == 0:
            s["y"] = [str(Fraction(v) + rng.choice([-1, 1])) for v in s["y"]]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, required=True, help="directory with relufit and relufit-server")
    ap.add_argument("--server", help="HOST:PORT of a running server (else one is started)")
    ap.add_argument("--time-limit", type=float, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--grid", default=None, help="run_bench.py --grid (default: its default grid)")
    ap.add_argument("--losses", default="linf,l1,l2")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="erm-bench-"))
    gen = [sys.executable, str(HERE / "run_bench.py"), "--generate-only", "--out", str(work / "gen"),
           "--seed", str(args.seed)]
    if args.grid is not None:
        gen += ["--grid", args.grid]
    subprocess.run(gen, check=True, capture_output=True)
    names = sorted(p.stem for p in (work / "gen" / "instances").glob("*.json"))
    planted = []
    for name in names:
        req = json.loads((work / "gen" / "instances" / f"{name}.json").read_text())
        if not name.startswith("planted") or req["architecture"]["output_dim"] != 1:
            continue
        planted.append((name, req))
    proc = None
    server = args.server
    if not server:
        proc, server = start_server(str(args.bin / "relufit-server"), work)
    client = [str(args.bin / "relufit"), "--server", server]
    lines = ["| instance | n | d | m | loss | optimum | status | time s | nodes | node programs | verify |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    zero = ["| instance | zero-error solve, perturbed: verdict | time s | unperturbed: verdict | time s |",
            "|---|---|---|---|---|"]
    widths = ["| instance | planted width | width found | widths solved | proof below | time s | verify |",
              "|---|---|---|---|---|---|---|"]
    try:
        for name, req in planted:
            arch = req["architecture"]
            n, d, m = len(req["dataset"]["samples"]), arch["input_dim"], arch["hidden_width"]
            pert = perturb(req, args.seed)
            pfile = work / f"{name}.perturbed.json"
            pfile.write_text(json.dumps(pert))
            for loss in args.losses.split(","):
                out = work / f"{name}.{loss}.min.json"
                p, secs = run(client + ["minimize", str(pfile), "--loss", loss, "--json",
                                        "--time-limit", str(args.time_limit)], args.time_limit + 60)
                if p.returncode != 0:
                    lines.append(f"| {name} | {n} | {d} | {m} | {loss} | error: {p.stderr.strip()[:80]} | | {secs:.2f} | | | |")
                    continue
                out.write_text(p.stdout)
                r = json.loads(p.stdout)
                st = r.get("status", "").replace("MINIMIZE_STATUS_", "")
                opt = r.get("optimal_error") or ("best " + r.get("best_error", "-"))
                mreq = work / f"{name}.{loss}.minreq.json"
                mreq.write_text(json.dumps({"request": pert, "loss": "LOSS_" + loss.upper()}))
                v, _ = run(client + ["verify", str(mreq), str(out)], 600)
                stats = r.get("statistics", {})
                lines.append(f"| {name} | {n} | {d} | {m} | {loss} | {opt} | {st} | {secs:.2f} | "
                             f"{stats.get('nodes', 0)} | {stats.get('lps_solved', 0)} | "
                             f"{'valid' if v.returncode == 0 else 'INVALID ' + v.stderr.strip()[:60]} |")
                print(lines[-1], flush=True)
            p1, s1 = run(client + ["solve", str(pfile), "--json", "--time-limit", str(args.time_limit)], args.time_limit + 60)
            orig = work / f"{name}.json"
            orig.write_text(json.dumps(req))
            p2, s2 = run(client + ["solve", str(orig), "--json", "--time-limit", str(args.time_limit)], args.time_limit + 60)
            verdict = lambda p: json.loads(p.stdout).get("verdict", "?").replace("VERDICT_", "") if p.returncode == 0 else "error"
            zero.append(f"| {name} | {verdict(p1)} | {s1:.2f} | {verdict(p2)} | {s2:.2f} |")
            print(zero[-1], flush=True)
            out = work / f"{name}.mw.json"
            p, secs = run(client + ["min-width", str(orig), "--json", "--max-width", str(m),
                                    "--time-limit", str(args.time_limit)], args.time_limit + 60)
            if p.returncode != 0:
                widths.append(f"| {name} | {m} | error: {p.stderr.strip()[:80]} | | | {secs:.2f} | |")
                continue
            out.write_text(p.stdout)
            r = json.loads(p.stdout)
            wreq = work / f"{name}.mwreq.json"
            wreq.write_text(json.dumps({"request": req, "max_width": m}))
            v, _ = run(client + ["verify", str(wreq), str(out)], 600)
            below = r.get("below", {}).get("certificate", {})
            kind = next(iter(below), "-") if below else "-"
            found = r.get("width", 0) if r.get("verdict") == "VERDICT_FEASIBLE" else r.get("verdict", "?")
            widths.append(f"| {name} | {m} | {found} | {r.get('tried', '')} | {kind} | {secs:.2f} | "
                          f"{'valid' if v.returncode == 0 else 'INVALID'} |")
            print(widths[-1], flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    text = "\n".join(["## Least training error (labels perturbed)", "", *lines, "",
                      "## Zero-error decision of the same data", "", *zero, "",
                      "## Smallest width (unperturbed planted data)", "", *widths, ""])
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
