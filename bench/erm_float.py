#!/usr/bin/python3
"""Float training against the exact optimum (issue 15).

For each request file and loss: the least training error that relufit proves
(`relufit minimize --json`, checked) against the best of many float runs
(numpy, float64): Adam on the loss itself (subgradients for L-inf and L1)
and, for squared L2, Levenberg-Marquardt on the residuals, each from random
starts. The float error is evaluated in float64 on the trained weights. The
gap is what a float trainer leaves above the optimum (it can never go below;
a float value below the optimum would mean a bug here or there).
Usage: erm_float.py --bin BUILD/bin --server HOST:PORT FILE... [--starts 100]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import time
from fractions import Fraction

import numpy as np


def forward(theta, X, m, hb, ob):
    d = X.shape[1]
    W = theta[: m * d].reshape(m, d)
    k = m * d
    b = theta[k: k + m] if hb else np.zeros(m)
    k += m if hb else 0
    a = theta[k: k + m]
    k += m
    c = theta[k] if ob else 0.0
    pre = X @ W.T + b
    return np.maximum(pre, 0) @ a + c, pre, W, a


def loss_of(r, loss):
    return np.max(np.abs(r)) if loss == "linf" else (np.sum(np.abs(r)) if loss == "l1" else np.sum(r * r))


def grad(theta, X, y, m, hb, ob, loss):
    f, pre, W, a = forward(theta, X, m, hb, ob)
    r = f - y
    if loss == "l2":
        g_out = 2 * r
    elif loss == "l1":
        g_out = np.sign(r)
    else:
        g_out = np.zeros_like(r)
        i = np.argmax(np.abs(r))
        g_out[i] = np.sign(r[i])
    act = (pre > 0).astype(float)
    gW = ((g_out[:, None] * act) * a).T @ X
    gb = ((g_out[:, None] * act) * a).sum(0)
    ga = (np.maximum(pre, 0) * g_out[:, None]).sum(0)
    parts = [gW.ravel()] + ([gb] if hb else []) + [ga] + ([np.array([g_out.sum()])] if ob else [])
    return np.concatenate(parts)


def jacobian(theta, X, m, hb, ob):
    f, pre, W, a = forward(theta, X, m, hb, ob)
    act = (pre > 0).astype(float)
    n, d = X.shape
    JW = (act * a)[:, :, None] * X[:, None, :]
    parts = [JW.reshape(n, m * d)] + ([act * a] if hb else []) + [np.maximum(pre, 0)] + ([np.ones((n, 1))] if ob else [])
    return np.concatenate(parts, axis=1)


def adam(theta, X, y, m, hb, ob, loss, steps=3000, lr=0.02):
    mom, vel = np.zeros_like(theta), np.zeros_like(theta)
    best = (loss_of(forward(theta, X, m, hb, ob)[0] - y, loss), theta.copy())
    for t in range(1, steps + 1):
        g = grad(theta, X, y, m, hb, ob, loss)
        mom = 0.9 * mom + 0.1 * g
        vel = 0.999 * vel + 0.001 * g * g
        step = lr * (1 - t / (steps + 1))
        theta = theta - step * (mom / (1 - 0.9 ** t)) / (np.sqrt(vel / (1 - 0.999 ** t)) + 1e-12)
        e = loss_of(forward(theta, X, m, hb, ob)[0] - y, loss)
        if e < best[0]:
            best = (e, theta.copy())
    return best[0]


def lm(theta, X, y, m, hb, ob, iters=300):
    mu = 1e-2
    r = forward(theta, X, m, hb, ob)[0] - y
    e = float(r @ r)
    for _ in range(iters):
        J = jacobian(theta, X, m, hb, ob)
        A = J.T @ J + mu * np.eye(len(theta))
        try:
            step = np.linalg.solve(A, -J.T @ r)
        except np.linalg.LinAlgError:
            break
        cand = theta + step
        rc = forward(cand, X, m, hb, ob)[0] - y
        ec = float(rc @ rc)
        if ec < e:
            theta, r, e, mu = cand, rc, ec, max(mu / 3, 1e-12)
        else:
            mu *= 4
            if mu > 1e12:
                break
    return e


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--starts", type=int, default=100)
    ap.add_argument("--losses", default="linf,l1,l2")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print("| instance | loss | exact optimum | decimal | best float (Adam) | best float (LM) | float runs | float s | exact s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in args.files:
        req = json.load(open(path))
        arch = req["architecture"]
        m, hb, ob = arch["hidden_width"], arch.get("hidden_bias", True), arch.get("output_bias", True)
        X = np.array([[float(Fraction(v)) for v in s["x"]] for s in req["dataset"]["samples"]])
        y = np.array([float(Fraction(s["y"][0])) for s in req["dataset"]["samples"]])
        nparams = m * X.shape[1] + (m if hb else 0) + m + (1 if ob else 0)
        for loss in args.losses.split(","):
            t = time.monotonic()
            p = subprocess.run([f"{args.bin}/relufit", "--server", args.server, "minimize", path, "--loss", loss,
                                "--json", "--time-limit", "600"], capture_output=True, text=True)
            exact_s = time.monotonic() - t
            r = json.loads(p.stdout) if p.returncode == 0 else {}
            opt = r.get("optimal_error", "?")
            rng = np.random.default_rng(args.seed)
            t = time.monotonic()
            best_adam = min(adam(rng.normal(size=nparams), X, y, m, hb, ob, loss) for _ in range(args.starts))
            best_lm = min(lm(rng.normal(size=nparams), X, y, m, hb, ob) for _ in range(args.starts)) if loss == "l2" else None
            float_s = time.monotonic() - t
            dec = float(Fraction(opt)) if opt != "?" else float("nan")
            name = path.rsplit("/", 1)[-1]
            lm_text = f"{best_lm:.10g}" if best_lm is not None else "-"
            print(f"| {name} | {loss} | {opt} | {dec:.10g} | {best_adam:.10g} | {lm_text} | "
                  f"{args.starts}{' + ' + str(args.starts) if best_lm is not None else ''} | {float_s:.1f} | {exact_s:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
