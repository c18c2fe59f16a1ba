#!/usr/bin/python3
"""Benchmark relufit against general SMT solvers (z3, cvc5) on the same instances.

Every instance asks: can a two-layer ReLU network

    f(x) = sum_{j=1..m} a_j * max(0, w_j . x + b_j) + c

fit the samples (x_i, y_i) with zero error?  One run of this script

1. builds the instances (deterministically from --seed):
   * "planted":  n distinct integer inputs in [-9, 9]^d, labels computed exactly
     (fractions.Fraction) from a random network of width m with small weights;
     asked at width m, so the expected verdict is FEASIBLE;
   * "narrowed": the same data asked at width m - 1 (expected verdict unknown,
     usually infeasible; for d = 1 infeasible when the width is below the
     data's slope-change bound p*, see min_breakpoints);
   * a grid point NxDxMxK@WIDTHS asks the same planted data at each of the
     widths instead (w = m: "planted", w > m: "widened", expected feasible;
     w < m: "narrowed");
   * "shared":   every /work/shared/instances/*.json, expected verdicts from its
     EXPECTED.tsv;
   * "extra":    each --instance FILE, expected verdict from the EXPECTED.tsv
     beside it (e.g. tests/golden/irrational_only_*.json);
   each written as a relufit.v1.SolveRequest in protobuf JSON (NAME.json) and as
   an SMT-LIB 2 QF_NRA problem (NAME.smt2) into OUT/instances/;
2. runs every selected solver on every instance with the same time limit:
   z3 and cvc5 on NAME.smt2, relufit through its command-line client against a
   relufit server that this script starts (and stops) on a free local port,
   once per --threads value (search threads per solve; peers run once);
3. checks the answers: two solvers deciding an instance differently, a verdict
   contradicting the expected one, a relufit FEASIBLE network that does not fit
   the samples exactly, or a decided relufit response that `relufit verify`
   rejects is reported loudly and makes the exit status 1;
4. writes OUT/results.md (Markdown table and summary), OUT/results.csv and, when
   gnuplot is installed, OUT/time_vs_n.png.

Wall time of every solver invocation is measured here (time.monotonic around the
subprocess), so it includes process start-up and, for relufit, the RPC and the
server-side certificate check.

The SMT-LIB encoding (see smtlib_encoding) is the direct one: for sample i and
neuron j a real h_i_j with h_i_j >= 0, h_i_j >= pre_ij and
(h_i_j = 0 or h_i_j = pre_ij), i.e. h_i_j = max(0, pre_ij) where
pre_ij = w_j . x_i + b_j, and for every sample and output coordinate
sum_j a_j_o h_i_j + c_o = y_i_o.

Exit status: 0 all answers consistent, 1 a problem was found (disagreement,
wrong verdict, bad certificate, relufit error, relufit server exit) or
--self-test failed, 2 a setup error.

Run `bench/run_bench.py --help` for the options, `bench/README.md` for more.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import dataclasses
import datetime
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Optional

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_SHARED_DIR = Path("/work/shared/instances")

# (n, d, m, k): number of samples, input dim, hidden width, output dim.
DEFAULT_GRID = [(6, 1, 2, 1), (12, 2, 2, 1), (20, 2, 2, 1), (20, 2, 3, 1), (40, 2, 3, 1),
                (8, 2, 2, 2), (12, 2, 2, 2)]
QUICK_GRID = [(6, 1, 2, 1), (12, 2, 2, 1)]
QUICK_TIME_LIMIT = 10.0
DEFAULT_TIME_LIMIT = 60.0

INPUT_RANGE = 9      # inputs are integers in [-INPUT_RANGE, INPUT_RANGE]^d (see input_range)
WEIGHT_RANGE = 5     # w_j, b_j are integers in [-WEIGHT_RANGE, WEIGHT_RANGE] (b: see input_range)
OUTPUT_WEIGHTS = [-3, -2, -1, 1, 2, 3]  # a_j entries, each halved with prob. 1/2

# Outcome of one solver run. Only the first two are verdicts.
FEASIBLE, INFEASIBLE = "feasible", "infeasible"
UNKNOWN, TIMEOUT, ERROR = "unknown", "timeout", "error"
DECIDED = (FEASIBLE, INFEASIBLE)

ALL_SOLVERS = ("relufit", "z3", "cvc5")
PEERS = ("z3", "cvc5")


# --------------------------------------------------------------------------
# Exact numbers and the problem model
# --------------------------------------------------------------------------

def parse_number(text: str) -> Fraction:
    """Reads an API number exactly: integer, "p/q" or finite decimal ("1.5e-3")."""
    return Fraction(text)


def format_number(q: Fraction) -> str:
    """Writes a rational the way the API does: an integer or "p/q" in lowest terms."""
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


@dataclasses.dataclass
class Problem:
    """The data of a SolveRequest, with exact numbers."""
    d: int
    m: int
    k: int
    hidden_bias: bool
    output_bias: bool
    xs: list  # n lists of d Fractions
    ys: list  # n lists of k Fractions

    @property
    def n(self) -> int:
        return len(self.xs)

    @staticmethod
    def from_request(request: dict) -> "Problem":
        arch = request["architecture"]
        samples = request.get("dataset", {}).get("samples", [])
        return Problem(
            d=int(arch["input_dim"]), m=int(arch["hidden_width"]), k=int(arch["output_dim"]),
            hidden_bias=bool(arch.get("hidden_bias", True)),
            output_bias=bool(arch.get("output_bias", True)),
            xs=[[parse_number(v) for v in s.get("x", [])] for s in samples],
            ys=[[parse_number(v) for v in s.get("y", [])] for s in samples])

    def to_request(self) -> dict:
        """The SolveRequest in protobuf JSON, laid out like the shared instances."""
        return {
            "architecture": {
                "input_dim": self.d, "hidden_width": self.m, "output_dim": self.k,
                "hidden_bias": self.hidden_bias, "output_bias": self.output_bias,
            },
            "dataset": {"samples": [
                {"x": [format_number(v) for v in x], "y": [format_number(v) for v in y]}
                for x, y in zip(self.xs, self.ys)]},
        }


@dataclasses.dataclass
class Network:
    """Weights of f: w[j][t], b[j] (None without hidden bias), a[j][o], c[o] (None without)."""
    w: list
    b: Optional[list]
    a: list
    c: Optional[list]

    def pre(self, j: int, x: list) -> Fraction:
        """Pre-activation w_j . x + b_j of neuron j."""
        value = sum((wt * xt for wt, xt in zip(self.w[j], x)), Fraction(0))
        return value + (self.b[j] if self.b is not None else 0)

    def __call__(self, x: list) -> list:
        k = len(self.a[0]) if self.a else len(self.c or [])
        out = list(self.c) if self.c is not None else [Fraction(0)] * k
        for j in range(len(self.w)):
            h = max(Fraction(0), self.pre(j, x))
            for o in range(k):
                out[o] += self.a[j][o] * h
        return out


ALGEBRAIC_BITS = 200  # an algebraic weight is read as a rational within 2^-200 of it


def algebraic_approximation(alg: dict) -> Fraction:
    """A rational within 2^-ALGEBRAIC_BITS of the real root of min_poly in
    [lower, upper], found by exact bisection (the polynomial is irreducible of
    degree >= 2, so the root is simple and irrational: the sign changes across
    it and no midpoint is a root)."""
    coeffs = [int(c) for c in alg["min_poly"]]
    lo, hi = parse_number(alg["lower"]), parse_number(alg["upper"])

    def p(t: Fraction) -> Fraction:
        value = Fraction(0)
        for c in reversed(coeffs):
            value = value * t + c
        return value

    s_lo = p(lo)
    if s_lo == 0 or p(hi) == 0 or (s_lo > 0) == (p(hi) > 0):
        raise ValueError(f"algebraic number {alg}: no sign change on its interval")
    eps = Fraction(1, 2 ** ALGEBRAIC_BITS)
    while hi - lo > eps:
        mid = (lo + hi) / 2
        if (p(mid) > 0) == (s_lo > 0):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def network_from_response(response: dict, problem: Problem) -> Network:
    """Reads the weights of a SolveResponse's network (protobuf JSON): exact
    for rational weights, within 2^-200 for algebraic ones (then the network's
    `approximate` is set and only `relufit verify` checks it exactly).

    Protobuf JSON omits default values, so a missing number is read as 0.
    """
    algebraic = []

    def num(msg) -> Fraction:
        msg = msg or {}
        if "algebraic" in msg:
            algebraic.append(True)
            return algebraic_approximation(msg["algebraic"])
        return parse_number(msg.get("rational", "0") or "0")

    neurons = response.get("network", {}).get("neurons", [])
    if len(neurons) != problem.m:
        raise ValueError(f"network has {len(neurons)} neurons, architecture says {problem.m}")
    w, b, a = [], [], []
    for j, neuron in enumerate(neurons):
        w.append([num(v) for v in neuron.get("input_weights", [])])
        b.append(num(neuron.get("bias")))
        a.append([num(v) for v in neuron.get("output_weights", [])])
        if len(w[j]) != problem.d or len(a[j]) != problem.k:
            raise ValueError(f"neuron {j} has {len(w[j])} input and {len(a[j])} output weights")
    c = [num(v) for v in response.get("network", {}).get("output_bias", [])]
    if problem.output_bias and len(c) != problem.k:
        raise ValueError(f"output bias has {len(c)} entries, expected {problem.k}")
    net = Network(w=w, b=b if problem.hidden_bias else None, a=a,
                  c=c if problem.output_bias else None)
    net.approximate = bool(algebraic)
    return net


def check_network(problem: Problem, net: Network) -> Optional[str]:
    """Exact check that net fits every sample (to within 2^-100 when it has
    algebraic weights, read approximately); returns None or what is wrong."""
    tolerance = Fraction(1, 2 ** 100) if getattr(net, "approximate", False) else 0
    for i, (x, y) in enumerate(zip(problem.xs, problem.ys)):
        fx = net(x)
        if any(abs(f - t) > tolerance for f, t in zip(fx, y)):
            return (f"sample {i}: f(x) = {[format_number(v) for v in fx]} "
                    f"!= y = {[format_number(v) for v in y]}")
    return None


# --------------------------------------------------------------------------
# Instances
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Instance:
    name: str
    kind: str                  # "planted", "narrowed", "shared" or "extra"
    problem: Problem
    expected: Optional[str]    # FEASIBLE, INFEASIBLE or None (unknown)
    planted: Optional[Network] = None  # the generating network (planted only)
    json_path: Optional[Path] = None
    smt_path: Optional[Path] = None
    source: Optional[Path] = None      # original file (shared only), copied verbatim


def parse_widths(text: str, item: str) -> tuple:
    """Parses the WIDTHS of a grid point: "1-8", "4", "1-3+5" -> (1, 2, ..)."""
    widths = []
    for part in text.split("+"):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()) or (not hi and _):
            raise argparse.ArgumentTypeError(
                f"grid point {item!r}: widths {text!r} are not W, A-B or such joined by '+'")
        lo, hi = int(lo), int(hi or lo)
        if lo < 1 or hi < lo:
            raise argparse.ArgumentTypeError(f"grid point {item!r}: bad width range {part!r}")
        widths += range(lo, hi + 1)
    return tuple(dict.fromkeys(widths))


def parse_grid(text: str) -> list:
    """Parses "40x2x3x1,200x1x5x1@1-8" into [(40, 2, 3, 1), (200, 1, 5, 1, (1, .., 8))].

    A point NxDxMxK is asked at width M (planted) and M - 1 (narrowed); with
    @WIDTHS the same planted data is asked at each of those widths instead.
    """
    grid = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        shape, _, width_text = item.lower().partition("@")
        parts = shape.split("x")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise argparse.ArgumentTypeError(f"grid point {item!r} is not NxDxMxK[@WIDTHS]")
        n, d, m, k = map(int, parts)
        if min(n, d, m, k) < 1:
            raise argparse.ArgumentTypeError(f"grid point {item!r}: every entry must be >= 1")
        if _ and not width_text:
            raise argparse.ArgumentTypeError(f"grid point {item!r}: widths missing after '@'")
        grid.append((n, d, m, k, parse_widths(width_text, item)) if width_text else (n, d, m, k))
    if not grid and text.strip():
        raise argparse.ArgumentTypeError("empty grid")
    return grid  # "" selects no grid point (e.g. with --random)


def format_grid_point(point: tuple) -> str:
    """(200, 1, 5, 1, (1, .., 8)) -> "200x1x5x1@1-8" (widths as ranges)."""
    text = "x".join(map(str, point[:4]))
    if len(point) > 4:
        ranges, widths = [], sorted(point[4])
        start = prev = widths[0]
        for w in widths[1:] + [None]:
            if w is not None and w == prev + 1:
                prev = w
                continue
            ranges.append(str(start) if start == prev else f"{start}-{prev}")
            if w is not None:
                start = prev = w
        text += "@" + "+".join(ranges)
    return text


def input_range(n: int, d: int) -> tuple:
    """(R, B): inputs are integers in [-R, R]^d, hidden biases in [-B, B].

    R = INPUT_RANGE and B = WEIGHT_RANGE whenever n distinct inputs fit in
    [-9, 9]^d (so those instances never change); otherwise R is the least
    with (2R + 1)^d >= 2n (e.g. n = 200, d = 1: R = 200) and B grows with it
    (B = WEIGHT_RANGE * R // INPUT_RANGE), so that the neurons' breakpoints
    spread over the data rather than crowd around 0.
    """
    if n <= (2 * INPUT_RANGE + 1) ** d:
        return INPUT_RANGE, WEIGHT_RANGE
    r = INPUT_RANGE
    while (2 * r + 1) ** d < 2 * n:
        r += 1
    return r, WEIGHT_RANGE * r // INPUT_RANGE


def min_breakpoints(problem: "Problem") -> Optional[int]:
    """For one-dimensional data (d = 1), p*: a lower bound on the width of any
    exact fit; None for d > 1 or repeated inputs.

    Sort the samples by x; slopes s_i between neighbours; at each interior
    sample the slope-change sign e_i = sign(s_i - s_{i-1}); p* is the largest
    over the outputs of the sum, over maximal runs of L consecutive equal
    nonzero e_i, of ceil(L / 2). Why no width below p* fits: f is piecewise
    linear with at most one kink per neuron; e_i != 0 needs a kink t with
    x_{i-1} < t < x_{i+1}, contributing the sign e_i; a kink lies in at most two
    such consecutive windows and gives both the same sign, so a run of L equal
    signs needs ceil(L / 2) kinks of that sign, and no kink serves two runs
    (runs of one sign are at least one index apart).
    """
    if problem.d != 1 or problem.n < 3:
        return 0 if problem.d == 1 else None
    order = sorted(range(problem.n), key=lambda i: problem.xs[i][0])
    xs = [problem.xs[i][0] for i in order]
    if len(set(xs)) != len(xs):
        return None
    best = 0
    for o in range(problem.k):
        ys = [problem.ys[i][o] for i in order]
        slopes = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
        signs = [(b > a) - (b < a) for a, b in zip(slopes, slopes[1:])]
        total, run, last = 0, 0, 0
        for e in signs + [0]:
            if e != 0 and e == last:
                run += 1
            else:
                total += (run + 1) // 2
                run = 1 if e != 0 else 0
            last = e
        best = max(best, total)
    return best


def _small_rational(rng: random.Random, choices) -> Fraction:
    """An element of choices, halved with probability 1/2."""
    return Fraction(rng.choice(choices), rng.choice((1, 2)))


def plant(n: int, d: int, m: int, k: int, seed: int) -> tuple:
    """Draws a planted instance; returns (Problem at width m, generating Network).

    The random stream depends only on (seed, n, d, m, k), so an instance does not
    change when the grid around it does. The network is redrawn until every
    neuron is strictly active on some sample and strictly inactive on another and
    no two neurons have the same activation column, so that all m neurons matter
    on the data (this makes the narrowed instance a real question).
    """
    rng = random.Random(f"relufit-bench:{seed}:{n}x{d}x{m}x{k}")
    x_range, b_range = input_range(n, d)
    points = set()
    while len(points) < n:
        points.add(tuple(rng.randint(-x_range, x_range) for _ in range(d)))
    xs = [[Fraction(v) for v in p] for p in sorted(points)]
    rng.shuffle(xs)

    for _attempt in range(10000):
        w = []
        for _ in range(m):
            wj = [0] * d
            while not any(wj):
                wj = [rng.randint(-WEIGHT_RANGE, WEIGHT_RANGE) for _ in range(d)]
            w.append([Fraction(v) for v in wj])
        b = [Fraction(rng.randint(-b_range, b_range)) for _ in range(m)]
        a = [[_small_rational(rng, OUTPUT_WEIGHTS) for _ in range(k)] for _ in range(m)]
        c = [_small_rational(rng, range(-5, 6)) for _ in range(k)]
        net = Network(w=w, b=b, a=a, c=c)
        columns = [tuple(net.pre(j, x) > 0 for x in xs) for j in range(m)]
        signs_ok = all(any(net.pre(j, x) > 0 for x in xs) and any(net.pre(j, x) < 0 for x in xs)
                       for j in range(m))
        if signs_ok and len(set(columns)) == m:
            break
    else:
        raise RuntimeError(f"could not plant a non-degenerate network for {n}x{d}x{m}x{k}")

    problem = Problem(d=d, m=m, k=k, hidden_bias=True, output_bias=True,
                      xs=xs, ys=[net(x) for x in xs])
    return problem, net


def random_suite(count: int, seed: int) -> list:
    """Random multi-output instances nobody planted (issue 11's class).

    Instance t (t = 0..count-1): n = 5..8 distinct integer points in [-5, 5]^2,
    integer labels in [-4, 4]^k drawn independently, both biases, width 2 or 3
    alternately, k = 3 for every fifth instance and k = 2 otherwise. Each
    output alone usually fits such data; only the coupling through the shared
    hidden weights can decide them, so the expected verdict is not known.
    The stream depends only on (seed, t).
    """
    instances = []
    for t in range(count):
        rng = random.Random(f"relufit-random:{seed}:{t}")
        k = 3 if t % 5 == 4 else 2
        m = 2 + (t % 2)
        n = rng.randint(5, 8)
        points = set()
        while len(points) < n:
            points.add((rng.randint(-5, 5), rng.randint(-5, 5)))
        xs = [[Fraction(v) for v in p] for p in sorted(points)]
        rng.shuffle(xs)
        ys = [[Fraction(rng.randint(-4, 4)) for _ in range(k)] for _ in xs]
        problem = Problem(d=2, m=m, k=k, hidden_bias=True, output_bias=True, xs=xs, ys=ys)
        instances.append(Instance(f"random_t{t:03d}_n{n}_m{m}_k{k}_s{seed}", "random",
                                  problem, None))
    return instances


def read_expected(shared_dir: Path) -> dict:
    """EXPECTED.tsv: NAME<TAB>feasible|infeasible per line."""
    expected = {}
    path = shared_dir / "EXPECTED.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and not line.startswith("#"):
                verdict = parts[1].lower()
                if verdict not in DECIDED:
                    raise ValueError(f"{path}: unknown verdict {parts[1]!r} for {parts[0]}")
                expected[parts[0]] = verdict
    return expected


def build_instances(grid: list, seed: int, shared_dir: Optional[Path],
                    extra: tuple = (), random_count: int = 0) -> list:
    instances = random_suite(random_count, seed) if random_count else []
    for point in dict.fromkeys(grid):  # drop repeated grid points, keep order
        n, d, m, k = point[:4]
        widths = point[4] if len(point) > 4 else (m, m - 1)
        problem, net = plant(n, d, m, k, seed)
        base = f"n{n}_d{d}_m{m}_k{k}_s{seed}"
        bound = min_breakpoints(problem)
        for w in widths:
            if w < 1:
                continue
            if w == m:
                instances.append(Instance(f"planted_{base}", "planted", problem, FEASIBLE, net))
                continue
            # Wider: the planted network plus neurons with output weight 0 fits.
            # Narrower: infeasible below the d = 1 bound p*, else not known.
            expected = FEASIBLE if w > m else (INFEASIBLE if bound and w < bound else None)
            kind = "widened" if w > m else "narrowed"
            instances.append(Instance(f"{kind}_{base}_w{w}", kind,
                                      dataclasses.replace(problem, m=w), expected))
    unique: dict = {}
    for inst in instances:  # the same instance from two grid points: keep the first
        unique.setdefault(inst.name, inst)
    instances = list(unique.values())
    if shared_dir is not None:
        expected = read_expected(shared_dir)
        for path in sorted(shared_dir.glob("*.json")):
            problem = Problem.from_request(json.loads(path.read_text()))
            instances.append(Instance(path.stem, "shared", problem, expected.get(path.stem),
                                      source=path))
    for path in extra:  # --instance FILE: verdict from EXPECTED.tsv beside it, if listed
        problem = Problem.from_request(json.loads(path.read_text()))
        instances.append(Instance(path.stem, "extra", problem,
                                  read_expected(path.parent).get(path.stem), source=path))
    return instances


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n")


# --------------------------------------------------------------------------
# SMT-LIB 2 (QF_NRA)
# --------------------------------------------------------------------------

def smt_number(q: Fraction) -> str:
    """A rational constant: 3, (/ 3 2), (- 3), (- (/ 3 2))."""
    q = Fraction(q)
    if q < 0:
        return f"(- {smt_number(-q)})"
    return str(q.numerator) if q.denominator == 1 else f"(/ {q.numerator} {q.denominator})"


def _smt_sum(terms: list) -> str:
    if not terms:
        return "0"
    return terms[0] if len(terms) == 1 else f"(+ {' '.join(terms)})"


def _smt_scaled(coef: Fraction, var: str) -> Optional[str]:
    if coef == 0:
        return None
    return var if coef == 1 else f"(* {smt_number(coef)} {var})"


def smtlib_encoding(problem: Problem, name: str, pinned: Optional[Network] = None) -> str:
    """The instance as an SMT-LIB 2 QF_NRA script ending in (check-sat).

    Variables: w_j_t (input weights), b_j (hidden bias), a_j_o (output weights),
    c_o (output bias), h_i_j = max(0, w_j . x_i + b_j) (hidden activations);
    all indices 0-based. With `pinned`, the weights are additionally fixed to
    that network's values (used by --self-test to validate the encoding).
    """
    d, m, k = problem.d, problem.m, problem.k
    out = [f"; relufit benchmark instance {name}",
           f"; n={problem.n} d={d} m={m} k={k} hidden_bias={problem.hidden_bias} "
           f"output_bias={problem.output_bias}",
           "; f(x) = sum_j a_j * max(0, w_j . x + b_j) + c;  h_i_j = max(0, w_j . x_i + b_j)",
           "(set-logic QF_NRA)"]
    weights = [f"w_{j}_{t}" for j in range(m) for t in range(d)]
    weights += [f"b_{j}" for j in range(m)] if problem.hidden_bias else []
    weights += [f"a_{j}_{o}" for j in range(m) for o in range(k)]
    weights += [f"c_{o}" for o in range(k)] if problem.output_bias else []
    for var in weights:
        out.append(f"(declare-fun {var} () Real)")

    for i, (x, y) in enumerate(zip(problem.xs, problem.ys)):
        out.append(f"; sample {i}: x = ({', '.join(map(format_number, x))}),"
                   f" y = ({', '.join(map(format_number, y))})")
        for j in range(m):
            h = f"h_{i}_{j}"
            terms = [_smt_scaled(x[t], f"w_{j}_{t}") for t in range(d)]
            terms = [s for s in terms if s is not None]
            if problem.hidden_bias:
                terms.append(f"b_{j}")
            pre = _smt_sum(terms)
            out.append(f"(declare-fun {h} () Real)")
            out.append(f"(assert (>= {h} 0))")
            out.append(f"(assert (>= {h} {pre}))")
            out.append(f"(assert (or (= {h} 0) (= {h} {pre})))")
        for o in range(k):
            terms = [f"(* a_{j}_{o} h_{i}_{j})" for j in range(m)]
            if problem.output_bias:
                terms.append(f"c_{o}")
            out.append(f"(assert (= {_smt_sum(terms)} {smt_number(y[o])}))")

    if pinned is not None:
        out.append("; pinned weights")
        values = {}
        for j in range(m):
            for t in range(d):
                values[f"w_{j}_{t}"] = pinned.w[j][t]
            if problem.hidden_bias:
                values[f"b_{j}"] = pinned.b[j]
            for o in range(k):
                values[f"a_{j}_{o}"] = pinned.a[j][o]
        if problem.output_bias:
            for o in range(k):
                values[f"c_{o}"] = pinned.c[o]
        for var in weights:
            out.append(f"(assert (= {var} {smt_number(values[var])}))")

    out += ["(check-sat)", "(exit)"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Running solvers
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    status: str             # FEASIBLE, INFEASIBLE, UNKNOWN, TIMEOUT or ERROR
    seconds: float
    detail: str = ""        # reason / error text, for the notes
    nodes: Optional[int] = None       # relufit search nodes
    problem: Optional[str] = None     # a wrong answer detected here (bad network)
    peak_rss_mb: Optional[float] = None  # relufit-server's peak resident memory for this run


def _format_limit(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def _as_text(output) -> str:
    """Partial output of a killed process (bytes, str or None) as text."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def _run(cmd: list, hard_timeout: float, log_path: Optional[Path]) -> tuple:
    """Runs cmd; returns (returncode or None when killed, stdout, stderr, seconds)."""
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=hard_timeout, stdin=subprocess.DEVNULL)
        rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child
        rc, stdout, stderr = None, _as_text(exc.stdout), _as_text(exc.stderr)
    seconds = time.monotonic() - start
    if log_path is not None:
        log_path.write_text(f"$ {shlex.join(map(str, cmd))}\n# exit {rc}, {seconds:.3f} s\n"
                            f"--- stdout\n{stdout}--- stderr\n{stderr}")
    return rc, stdout, stderr, seconds


def _peer_outcome(rc, stdout: str, stderr: str, seconds: float, limit: float) -> Outcome:
    """Maps a z3/cvc5 run to an Outcome: sat, unsat, else unknown/timeout/error."""
    first = next((line.strip() for line in stdout.splitlines() if line.strip()), "")
    if rc is None:
        return Outcome(TIMEOUT, seconds, "killed at hard limit")
    if first == "sat":
        return Outcome(FEASIBLE, seconds)
    if first == "unsat":
        return Outcome(INFEASIBLE, seconds)
    if first == "timeout" or "timeout" in stderr.lower() or seconds >= limit:
        return Outcome(TIMEOUT, seconds, "time limit")
    if first == "unknown":
        return Outcome(UNKNOWN, seconds, "solver answered unknown")
    message = first or (stderr.strip().splitlines() or [f"exit {rc}"])[-1]
    return Outcome(ERROR, seconds, message)


def run_z3(inst: Instance, limit: float, grace: float, log: Path) -> Outcome:
    cmd = ["z3", f"-T:{max(1, math.ceil(limit))}", str(inst.smt_path)]
    return _peer_outcome(*_run(cmd, limit + grace, log), limit)


def run_cvc5(inst: Instance, limit: float, grace: float, log: Path) -> Outcome:
    cmd = ["cvc5", f"--tlimit={max(1, round(limit * 1000))}", str(inst.smt_path)]
    return _peer_outcome(*_run(cmd, limit + grace, log), limit)


def relufit_solve(client: Path, address: str, request_path: Path, limit: float,
                  hard_timeout: float, log: Optional[Path],
                  threads: Optional[int] = None) -> tuple:
    """One `relufit solve --json`; returns (Outcome, parsed response or None).
    threads: search threads asked for (None: the server's default)."""
    cmd = [str(client), "--server", address, "solve", str(request_path), "--json",
           "--time-limit", _format_limit(limit)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    rc, stdout, stderr, seconds = _run(cmd, hard_timeout, log)
    if rc is None:
        return Outcome(TIMEOUT, seconds, "killed at hard limit"), None
    try:
        response = json.loads(stdout[stdout.index("{"):])
    except ValueError:
        message = (stderr.strip().splitlines() or stdout.strip().splitlines() or [f"exit {rc}"])[-1]
        return Outcome(ERROR, seconds, f"exit {rc}: {message}"), None
    verdict = response.get("verdict", "VERDICT_UNSPECIFIED")
    reason = response.get("reason", "")
    nodes = response.get("statistics", {}).get("nodes")
    nodes = int(nodes) if nodes is not None else None
    if verdict == "VERDICT_FEASIBLE":
        status = FEASIBLE
    elif verdict == "VERDICT_INFEASIBLE":
        status = INFEASIBLE
    elif verdict == "VERDICT_UNKNOWN":
        status = TIMEOUT if "time" in reason.lower() else UNKNOWN
    else:
        status = ERROR
        reason = f"no verdict ({verdict}), exit {rc}"
    return Outcome(status, seconds, reason, nodes), response


def reset_peak_rss(pid: int) -> None:
    """Resets the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb(pid: int) -> Optional[float]:
    """VmHWM of the process in MiB, or None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_relufit(inst: Instance, limit: float, grace: float, log: Path,
                client: Path, address: str, response_dir: Path,
                server_pid: Optional[int] = None, threads: Optional[int] = None) -> Outcome:
    """Solves through the server, then re-checks a decided answer (untimed).

    The response is saved as response_dir/NAME.json (NAME.tT.json with
    threads = T). A FEASIBLE network is
    evaluated here exactly at every sample; every decided response is also
    re-verified from the saved file by `relufit verify` (the client's local
    checker), which catches certificates lost or damaged on the way out.
    """
    # The server's peak memory is reset before and read after the solve, so
    # with --jobs 1 it is this instance's peak (the server's baseline included).
    if server_pid is not None:
        reset_peak_rss(server_pid)
    outcome, response = relufit_solve(client, address, inst.json_path, limit, limit + grace, log,
                                      threads)
    if server_pid is not None:
        outcome.peak_rss_mb = peak_rss_mb(server_pid)
    if response is None:
        return outcome
    response_path = response_dir / f"{inst.name}{thread_suffix(threads)}.json"
    write_json(response_path, response)
    problems = []
    if outcome.status == FEASIBLE:
        try:
            wrong = check_network(inst.problem, network_from_response(response, inst.problem))
        except (ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
            wrong = f"unreadable network: {exc}"
        if wrong:
            problems.append(f"relufit FEASIBLE network does not fit: {wrong}")
    if outcome.status in DECIDED:
        cmd = [str(client), "verify", str(inst.json_path), str(response_path)]
        rc, stdout, stderr, _ = _run(cmd, max(120.0, 2 * limit),
                                     log.with_name(log.name.replace(".log", ".verify.log")))
        if rc != 0:
            message = (stdout.strip() + " " + stderr.strip()).strip().replace("\n", " ")
            problems.append(f"`relufit verify` rejects the {outcome.status.upper()} answer "
                            f"(exit {rc}): {message[:300]}")
    outcome.problem = "; ".join(problems) or None
    return outcome


def thread_suffix(threads: Optional[int]) -> str:
    """File-name part of a relufit run at a thread count ("" for the default)."""
    return "" if threads is None else f".t{threads}"


def thread_label(threads: Optional[int]) -> str:
    return "default" if threads is None else str(threads)


def export_smtlib(instances: list, client: Path, address: str, log_dir: Path) -> None:
    """Overwrites each instance's .smt2 with relufit's own export of it."""
    for inst in instances:
        cmd = [str(client), "--server", address, "export", str(inst.json_path),
               "--format", "smt2", "-o", str(inst.smt_path)]
        rc, _, stderr, _ = _run(cmd, 60.0, log_dir / f"{inst.name}.export.log")
        if rc != 0:
            raise RuntimeError(f"relufit export failed for {inst.name}: {stderr.strip()[:300]}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelufitServer:
    """A relufit-server on a free local port, for the duration of a `with` block.

    If the server exits while the benchmark runs (crash, or killed from outside),
    ensure_running() records the event in `exits` (reported as a problem) and
    starts a new server.
    """

    def __init__(self, server_bin: Path, client_bin: Path, work_dir: Path, extra_args: list):
        self.server_bin, self.client_bin = server_bin, client_bin
        self.work_dir, self.extra_args = work_dir, extra_args
        self.log_path = work_dir / "relufit-server.log"
        self.proc: Optional[subprocess.Popen] = None
        self.address = ""
        self.exits: list = []   # descriptions of unexpected server exits
        self.search_threads: Optional[int] = None  # per-solve default, from its log
        self._lock = threading.Lock()
        self._log = None

    def __enter__(self) -> "RelufitServer":
        self._start(log_mode="w")
        return self

    def _start(self, log_mode: str) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self._log = open(self.log_path, log_mode)
        cmd = [str(self.server_bin), "--listen", self.address, *self.extra_args]
        print(f"starting {shlex.join(cmd)} (log: {self.log_path})", file=sys.stderr)
        # cwd: the server keeps files of its own (its job store) in its working
        # directory; keep them in OUT rather than wherever the script was started.
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     cwd=self.work_dir)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure_running(self, context: str) -> str:
        """Returns the address of a running server, restarting a dead one."""
        with self._lock:
            if not self.alive():
                self._log.close()
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-2:]
                event = (f"relufit-server exited with status {self.proc.returncode} "
                         f"(noticed {context}); last log lines: {' | '.join(tail)}")
                self.exits.append(event)
                print(f"!!! {event}\n!!! restarting relufit-server", file=sys.stderr)
                self._start(log_mode="a")
            return self.address

    def _wait_ready(self, timeout: float = 30.0) -> None:
        """Waits until the server answers a tiny Solve (XOR at width 2)."""
        probe = self.work_dir / "_probe.json"
        xor = Problem(d=2, m=2, k=1, hidden_bias=True, output_bias=True,
                      xs=[[Fraction(0), Fraction(0)], [Fraction(1), Fraction(1)],
                          [Fraction(1), Fraction(0)], [Fraction(0), Fraction(1)]],
                      ys=[[Fraction(0)], [Fraction(0)], [Fraction(1)], [Fraction(1)]])
        write_json(probe, xor.to_request())
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"relufit-server exited with {self.proc.returncode}; "
                                   f"see {self.log_path}")
            host, port = self.address.rsplit(":", 1)
            try:
                with socket.create_connection((host, int(port)), timeout=1):
                    pass
            except OSError as exc:
                last = f"connect: {exc}"
                time.sleep(0.2)
                continue
            outcome, _ = relufit_solve(self.client_bin, self.address, probe, 5, 20, None)
            if outcome.status in (FEASIBLE, INFEASIBLE, UNKNOWN, TIMEOUT):
                found = re.findall(r"(\d+) search thread",
                                   self.log_path.read_text(errors="replace"))
                self.search_threads = int(found[-1]) if found else None
                return
            last = outcome.detail
            time.sleep(0.3)
        raise RuntimeError(f"relufit-server at {self.address} not ready after {timeout:.0f} s "
                           f"({last}); see {self.log_path}")

    def __exit__(self, *exc_info) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()


def solver_version(solver: str, client: Path) -> str:
    """One line identifying the solver build."""
    if solver == "relufit":
        built = datetime.datetime.fromtimestamp(client.stat().st_mtime, datetime.timezone.utc)
        try:
            head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            head = ""
        return (f"{client}, built {built:%Y-%m-%d %H:%M} UTC"
                + (f", repository HEAD {head}" if head else ""))
    cmd = {"z3": ["z3", "--version"], "cvc5": ["cvc5", "--version"]}[solver]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=10, stdin=subprocess.DEVNULL)
        lines = proc.stdout.strip().splitlines()
        return lines[0] if proc.returncode == 0 and lines else "version unavailable"
    except (OSError, subprocess.TimeoutExpired):
        return "version unavailable"


# --------------------------------------------------------------------------
# Checking and reporting
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Row:
    """One instance at one relufit thread count (peers run once per instance:
    every row of the instance holds the same peer outcomes)."""
    inst: Instance
    outcomes: dict        # solver -> Outcome
    threads: Optional[int] = None  # relufit's --threads (None: the server's default)
    first: bool = True    # the instance's first row (where the peers are reported)
    speedup: Optional[float] = None
    speedup_bound: bool = False   # speedup is a lower bound (no peer decided)
    problems: list = dataclasses.field(default_factory=list)


def evaluate(rows: list, solvers: list, limit: float) -> None:
    """Fills in each row's problems and speed-up."""
    threaded = any(r.threads is not None for r in rows)
    by_instance: dict = {}
    for row in rows:
        by_instance.setdefault(row.inst.name, []).append(row)
    for row in rows:
        def name(s: str) -> str:
            return f"relufit at {thread_label(row.threads)} threads" if s == "relufit" and \
                threaded else s
        decided = {name(s): o.status for s, o in row.outcomes.items() if o.status in DECIDED}
        if len(set(decided.values())) > 1:
            row.problems.append("DISAGREEMENT: " + ", ".join(f"{s} says {v}"
                                                             for s, v in decided.items()))
        if row.inst.expected is not None:
            for s, v in decided.items():
                if v != row.inst.expected:
                    row.problems.append(f"WRONG VERDICT: {s} says {v}, expected "
                                        f"{row.inst.expected}")
        for s, o in row.outcomes.items():
            if o.problem and (s == "relufit" or row.first):
                row.problems.append(f"BAD CERTIFICATE: {o.problem}")
        relufit = row.outcomes.get("relufit")
        if relufit is not None and relufit.status == ERROR:
            row.problems.append(f"RELUFIT ERROR: {relufit.detail}")
        if relufit is not None and row.first:  # verdicts must not depend on the thread count
            verdicts = {r.threads: r.outcomes["relufit"].status
                        for r in by_instance[row.inst.name]
                        if r.outcomes["relufit"].status in DECIDED}
            if len(set(verdicts.values())) > 1:
                row.problems.append("DISAGREEMENT between thread counts: " + ", ".join(
                    f"{thread_label(t)} threads say {v}" for t, v in verdicts.items()))

        peers = [row.outcomes[s] for s in solvers if s in PEERS]
        if relufit is None or relufit.status not in DECIDED or not peers:
            continue
        t_relufit = max(relufit.seconds, 1e-3)
        peer_times = [o.seconds for o in peers if o.status in DECIDED]
        if peer_times:
            row.speedup = min(peer_times) / t_relufit
        else:
            row.speedup, row.speedup_bound = limit / t_relufit, True


def format_speedup(row: Row) -> str:
    if row.speedup is None:
        return ""
    value = f"{row.speedup:.0f}" if row.speedup >= 100 else f"{row.speedup:.3g}"
    return (">" if row.speedup_bound else "") + value


THREADS_SLOW = 2.0  # seconds: the thread comparison counts instances slower than this


def summary_lines(rows: list, solvers: list) -> list:
    lines = []
    thread_counts = list(dict.fromkeys(r.threads for r in rows))
    threaded = thread_counts != [None]
    for s in solvers:
        for t in (thread_counts if s == "relufit" else [None]):
            if s == "relufit":
                outs = [r.outcomes[s] for r in rows if r.threads == t]
            else:
                outs = [r.outcomes[s] for r in rows if r.first]
            n_dec = sum(o.status in DECIDED for o in outs)
            n_to = sum(o.status == TIMEOUT for o in outs)
            total = sum(o.seconds for o in outs)
            label = f"{s} at {thread_label(t)} threads" if s == "relufit" and threaded else s
            lines.append(f"- {label}: decided {n_dec}/{len(outs)}, timed out {n_to}, "
                         f"total {total:.1f} s")
    if "relufit" in solvers and any(s in PEERS for s in solvers):
        for t in thread_counts:
            subset = [r for r in rows if r.threads == t]
            at = f" at {thread_label(t)} threads" if threaded else ""
            both = [r.speedup for r in subset if r.speedup is not None and not r.speedup_bound]
            median = f"{statistics.median(both):.3g}" if both else "n/a"
            lines.append(f"- median speed-up of relufit{at} over the faster deciding peer, on "
                         f"the {len(both)} instances both decided: {median}")
            only = [r.inst.name for r in subset if r.speedup_bound]
            lines.append(f"- decided only by relufit{at} ({len(only)}): "
                         f"{', '.join(only) or 'none'}")
            missed = [r.inst.name for r in subset
                      if r.outcomes["relufit"].status not in DECIDED
                      and any(r.outcomes[s].status in DECIDED for s in solvers if s in PEERS)]
            lines.append(f"- decided by a peer but not by relufit{at} ({len(missed)}): "
                         f"{', '.join(missed) or 'none'}")
    if "relufit" in solvers and len(thread_counts) > 1:
        base = thread_counts[0]
        by_instance: dict = {}
        for r in rows:
            by_instance.setdefault(r.inst.name, {})[r.threads] = r.outcomes["relufit"]
        for t in thread_counts[1:]:
            pairs = [(runs[base], runs[t]) for runs in by_instance.values()]
            same = sum(a.status == b.status for a, b in pairs)
            slow = [(a, b) for a, b in pairs if a.seconds > THREADS_SLOW]
            t0, t1 = sum(a.seconds for a, _ in slow), sum(b.seconds for _, b in slow)
            ratio = f"{t0 / t1:.2f}x" if slow and t1 > 0 else "n/a"
            lines.append(
                f"- relufit at {thread_label(t)} against {thread_label(base)} threads: same "
                f"outcome on {same}/{len(pairs)} instances; on the {len(slow)} where "
                f"{thread_label(base)} threads took more than {THREADS_SLOW:g} s: "
                f"{t0:.1f} s -> {t1:.1f} s, speed-up {ratio}")
    return lines


def write_csv(path: Path, rows: list, solvers: list) -> None:
    header = ["instance", "class", "n", "d", "m", "k", "threads", "expected"]
    for s in solvers:
        header += [f"{s}_verdict", f"{s}_seconds"]
    header += ["speedup", "speedup_is_lower_bound"]
    if "relufit" in solvers:
        header += ["relufit_nodes", "relufit_peak_rss_mb", "relufit_reason"]
    header += ["problems"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in rows:
            p = r.inst.problem
            line = [r.inst.name, r.inst.kind, p.n, p.d, p.m, p.k,
                    thread_label(r.threads) if "relufit" in solvers else "",
                    r.inst.expected or ""]
            for s in solvers:
                line += [r.outcomes[s].status, f"{r.outcomes[s].seconds:.3f}"]
            line += ["" if r.speedup is None else f"{r.speedup:.4g}",
                     int(r.speedup_bound) if r.speedup is not None else ""]
            if "relufit" in solvers:
                o = r.outcomes["relufit"]
                line += ["" if o.nodes is None else o.nodes,
                         "" if o.peak_rss_mb is None else f"{o.peak_rss_mb:.1f}", o.detail]
            line += ["; ".join(r.problems)]
            writer.writerow(line)


def write_markdown(path: Path, rows: list, solvers: list, meta: dict,
                   summary: list, problems: list) -> None:
    out = ["# relufit benchmark", ""]
    out += [f"- {key}: {value}" for key, value in meta.items()]
    out += ["", "Verdicts: feasible / infeasible; unknown = gave up; timeout = hit the limit;",
            "error = crashed or unreadable output. Seconds are wall time of the whole",
            "invocation. Speed-up = (faster deciding peer's time) / (relufit's time);",
            "'>x' = no peer decided, x = limit / relufit's time. relufit MiB = the",
            "server's peak resident memory during that solve (reset before each run).",
            "threads = relufit's search threads asked for (default: the server's own);",
            "the peers run once per instance, shown on its first row.", ""]
    header = ["instance", "class", "n", "d", "m", "k", "threads", "expected"]
    for s in solvers:
        header += [s, "s"]
    header += ["speed-up", "relufit MiB"] if "relufit" in solvers else []
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" if h in ("instance", "class", "expected") or h in solvers
                              else "--:" for h in header) + "|")
    for r in rows:
        p = r.inst.problem
        cells = [r.inst.name + (" **!**" if r.problems else ""), r.inst.kind,
                 str(p.n), str(p.d), str(p.m), str(p.k),
                 thread_label(r.threads) if "relufit" in solvers else "",
                 r.inst.expected or "?"]
        for s in solvers:
            o = r.outcomes[s]
            cells += [o.status, f"{o.seconds:.2f}"] if s == "relufit" or r.first else ["", ""]
        if "relufit" in solvers:
            rss = r.outcomes["relufit"].peak_rss_mb
            cells += [format_speedup(r), "" if rss is None else f"{rss:.0f}"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## Summary", ""] + summary
    out += ["", "## Problems", ""]
    out += [f"- {p}" for p in problems] if problems else ["none"]
    path.write_text("\n".join(out) + "\n")


def plot(out_dir: Path, rows: list, solvers: list, limit: float, seed: int) -> Optional[Path]:
    """time_vs_n.png with gnuplot: seconds per instance against n, one colour per solver."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return None
    data_dir = out_dir / "plot"
    data_dir.mkdir(exist_ok=True)
    # One series per solver, relufit's per thread count: (label, file stem, rows).
    thread_counts = list(dict.fromkeys(r.threads for r in rows))
    series = []
    for s in solvers:
        if s == "relufit" and thread_counts != [None]:
            series += [(f"relufit t={thread_label(t)}", f"relufit{thread_suffix(t)}", s,
                        [r for r in rows if r.threads == t]) for t in thread_counts]
        else:
            series.append((s, s, s, [r for r in rows if r.first or s == "relufit"]))
    offsets = [(i - (len(series) - 1) / 2) * 0.25 for i in range(len(series))]
    plots = []
    for idx, (label, stem, s, subset) in enumerate(series):
        path = data_dir / f"{stem}.dat"
        with open(path, "w") as f:
            f.write("# n(jittered) seconds decided instance\n")
            for r in subset:
                o = r.outcomes[s]
                f.write(f"{r.inst.problem.n + offsets[idx]:.3f} {max(o.seconds, 1e-3):.4f} "
                        f"{int(o.status in DECIDED)} {r.inst.name}\n")
        color = idx + 1
        plots.append(f"'{path}' using 1:($3==1?$2:1/0) with points pt 7 ps 1.2 lc {color} "
                     f"title '{label} decided'")
        plots.append(f"'{path}' using 1:($3==0?$2:1/0) with points pt 6 ps 1.2 lc {color} "
                     f"title '{label} undecided'")
    png = out_dir / "time_vs_n.png"
    script = "\n".join([
        "set terminal pngcairo size 1000,650 enhanced font ',10'",
        f"set output '{png}'",
        f"set title 'relufit benchmark: wall time per instance (limit {_format_limit(limit)} s, "
        f"seed {seed})'",
        "set xlabel 'n (samples)'", "set ylabel 'seconds'",
        "set logscale y", "set grid", "set key outside right top",
        f"set arrow from graph 0, first {limit} to graph 1, first {limit} nohead dt 2 "
        "lc rgb 'gray'",
        "set offsets 1, 1, 0, 0",
        "plot " + ", \\\n     ".join(plots),
    ])
    (data_dir / "time_vs_n.gp").write_text(script + "\n")
    proc = subprocess.run([gnuplot, str(data_dir / "time_vs_n.gp")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        print(f"warning: gnuplot failed: {proc.stderr.strip()}", file=sys.stderr)
        return None
    return png


# --------------------------------------------------------------------------
# Self-test of the SMT-LIB encoding
# --------------------------------------------------------------------------

def self_test(instances: list, out_dir: Path, limit: float, grace: float) -> bool:
    """Validates the encoding with z3 and cvc5; returns True when all checks pass.

    * shared xor_m2 must be sat, xor_m1 and conflict_m3 unsat (when present);
    * each planted instance, re-read from its JSON file, is fitted exactly by its
      planted network;
    * each planted instance's encoding plus its planted weights is sat, and with
      the first label changed by 1 it is unsat (the weights fix every h_i_j, so
      these are easy linear problems).
    """
    runners = {"z3": run_z3, "cvc5": run_cvc5}
    test_dir = out_dir / "selftest"
    test_dir.mkdir(parents=True, exist_ok=True)
    ok = True

    def expect(label: str, inst: Instance, want: str) -> None:
        nonlocal ok
        for solver, runner in runners.items():
            o = runner(inst, limit, grace, test_dir / f"{inst.name}.{solver}.log")
            good = o.status == want
            ok &= good
            print(f"{'ok  ' if good else 'FAIL'} {label:<48} {solver:<5} {o.status:<10} "
                  f"({o.seconds:.2f} s, want {want})", file=sys.stderr)

    by_name = {inst.name: inst for inst in instances}
    for name, want in (("xor_m2", FEASIBLE), ("xor_m1", INFEASIBLE), ("conflict_m3", INFEASIBLE)):
        if name in by_name:
            expect(name, by_name[name], want)
        else:
            print(f"skip {name} (not among the shared instances)", file=sys.stderr)

    for inst in instances:
        if inst.kind != "planted":
            continue
        reread = Problem.from_request(json.loads(inst.json_path.read_text()))
        wrong = check_network(reread, inst.planted)
        ok &= wrong is None
        print(f"{'ok  ' if wrong is None else 'FAIL'} {inst.name + ' JSON round trip':<48} "
              f"{'':<5} {wrong or 'planted network fits'}", file=sys.stderr)
        for tag, ys, want in (("pinned", reread.ys, FEASIBLE),
                              ("pinned+bad label", [[reread.ys[0][0] + 1] + reread.ys[0][1:]]
                               + reread.ys[1:], INFEASIBLE)):
            problem = dataclasses.replace(reread, ys=ys)
            test = Instance(f"{inst.name}_{tag.replace('+', '_').replace(' ', '_')}", "test",
                            problem, want)
            test.smt_path = test_dir / f"{test.name}.smt2"
            test.smt_path.write_text(smtlib_encoding(problem, test.name, pinned=inst.planted))
            expect(f"{inst.name} {tag}", test, want)
    return ok


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run relufit, z3 and cvc5 on the same planted and shared instances with "
                    "the same time limit, check that they agree, and write a table.",
        epilog="Default grid: " + ",".join(map(format_grid_point, DEFAULT_GRID))
               + f". Quick grid: " + ",".join(map(format_grid_point, QUICK_GRID))
               + f" with a {QUICK_TIME_LIMIT:g} s limit. Exit status: 0 consistent, "
               "1 a problem (disagreement, wrong verdict, bad certificate, relufit error or "
               "server exit) or a failed self-test, 2 setup error.")
    parser.add_argument("--seed", type=int, default=1, help="instance generation seed (default 1)")
    parser.add_argument("--grid", type=parse_grid, default=None,
                        help='planted grid points NxDxMxK, comma separated, e.g. '
                             '"40x2x3x1,12x2x2x1", asked at width M and M - 1; NxDxMxK@WIDTHS '
                             'asks the same data at each width instead, e.g. "200x1x5x1@1-8" '
                             'or "40x2x3x1@2+3+5" (default: the grid below)')
    parser.add_argument("--time-limit", type=float, default=None,
                        help=f"seconds per solver and instance (default {DEFAULT_TIME_LIMIT:g}, "
                             f"{QUICK_TIME_LIMIT:g} with --quick)")
    parser.add_argument("--grace", type=float, default=5.0,
                        help="extra seconds before a run that ignores its own limit is killed "
                             "(default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="small grid and 10 s limit, for CI smoke runs")
    parser.add_argument("--solvers", default="relufit,z3,cvc5",
                        help="comma-separated subset of relufit,z3,cvc5 (default: all)")
    parser.add_argument("--threads", default=None, metavar="LIST",
                        help="relufit runs every instance once per entry, asking for that many "
                             "search threads per solve, e.g. '1,2' (default: once, with the "
                             "server's default; the server caps it); peers run once")
    parser.add_argument("--jobs", type=int, default=1,
                        help="solver runs in parallel (default 1; more disturbs the timings)")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build",
                        help="relufit build directory with bin/relufit-server and bin/relufit "
                             "(default: <repo>/build)")
    parser.add_argument("--server-args", default="",
                        help="extra arguments for relufit-server, e.g. '--max-time-limit 600'")
    parser.add_argument("--shared-dir", type=Path, default=DEFAULT_SHARED_DIR,
                        help=f"directory of shared instances with EXPECTED.tsv "
                             f"(default {DEFAULT_SHARED_DIR})")
    parser.add_argument("--no-shared", action="store_true", help="skip the shared instances")
    parser.add_argument("--instance", type=Path, action="append", default=[], metavar="FILE",
                        help="also run this SolveRequest JSON file (class 'extra'; its expected "
                             "verdict is read from EXPECTED.tsv in its directory); repeatable, "
                             "e.g. tests/golden/irrational_only_m4_k2_sqrt2.json")
    parser.add_argument("--random", type=int, default=0, metavar="COUNT",
                        help="also run COUNT random multi-output instances (class 'random': "
                             "5-8 integer points in [-5,5]^2, integer labels in [-4,4]^k, k = 2, "
                             "every fifth k = 3, widths 2 and 3 alternately, both biases; "
                             "verdict not known in advance); with --grid '' only these")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out",
                        help="output directory (default: <repo>/bench/out)")
    parser.add_argument("--generate-only", action="store_true",
                        help="only write the instances (.json and .smt2), run nothing")
    parser.add_argument("--self-test", action="store_true",
                        help="validate the SMT-LIB encoding with z3 and cvc5 (xor/conflict "
                             "instances, planted weights pinned) instead of benchmarking")
    args = parser.parse_args(argv)

    if args.grid is None:
        args.grid = QUICK_GRID if args.quick else DEFAULT_GRID
    if args.time_limit is None:
        args.time_limit = QUICK_TIME_LIMIT if args.quick else DEFAULT_TIME_LIMIT
    if args.time_limit <= 0:
        parser.error("--time-limit must be positive")
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    args.solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = [s for s in args.solvers if s not in ALL_SOLVERS]
    if unknown or not args.solvers:
        parser.error(f"unknown solver(s) {unknown}; choose from {','.join(ALL_SOLVERS)}")
    args.solvers = list(dict.fromkeys(args.solvers))
    if args.threads is None:
        args.threads = [None]
    else:
        try:
            args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
        except ValueError:
            parser.error("--threads takes a comma-separated list of thread counts, e.g. 1,2")
        if not args.threads or min(args.threads) < 1:
            parser.error("--threads: every entry must be >= 1")
        args.threads = list(dict.fromkeys(args.threads))
    if "relufit" not in args.solvers:
        args.threads = [None]
    if args.no_shared:
        args.shared_dir = None
    return args


def main(argv: list) -> int:
    args = parse_args(argv)
    out_dir = args.out.resolve()
    inst_dir, log_dir = out_dir / "instances", out_dir / "logs"
    response_dir = out_dir / "responses"
    for directory in (inst_dir, log_dir, response_dir):
        directory.mkdir(parents=True, exist_ok=True)

    try:
        instances = build_instances(args.grid, args.seed, args.shared_dir, tuple(args.instance),
                                    args.random)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"error: building instances: {exc}", file=sys.stderr)
        return 2
    for inst in instances:
        inst.json_path = inst_dir / f"{inst.name}.json"
        inst.smt_path = inst_dir / f"{inst.name}.smt2"
        if inst.source is not None:
            shutil.copyfile(inst.source, inst.json_path)
        else:
            write_json(inst.json_path, inst.problem.to_request())
        # The bench's own encoding; replaced by relufit's export below when the
        # relufit binaries take part, so the peers run what relufit exports.
        inst.smt_path.write_text(smtlib_encoding(inst.problem, inst.name))
    print(f"wrote {len(instances)} instances to {inst_dir}", file=sys.stderr)
    if args.generate_only:
        return 0

    needed = ["z3", "cvc5"] if args.self_test else [s for s in args.solvers if s in PEERS]
    missing = [s for s in needed if not shutil.which(s)]
    if missing:
        print(f"error: not on PATH: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.self_test:
        ok = self_test(instances, out_dir, args.time_limit, args.grace)
        print("self-test " + ("passed" if ok else "FAILED"), file=sys.stderr)
        return 0 if ok else 1

    build_dir = args.build_dir.resolve()  # absolute: the server runs in OUT
    server_bin = build_dir / "bin" / "relufit-server"
    client_bin = build_dir / "bin" / "relufit"
    if "relufit" in args.solvers:
        absent = [str(p) for p in (server_bin, client_bin) if not os.access(p, os.X_OK)]
        if absent:
            print(f"error: relufit binaries not found: {', '.join(absent)} "
                  f"(build first, pass --build-dir, or use --solvers z3,cvc5)", file=sys.stderr)
            return 2

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([sys.argv[0], *argv]),
        "machine": f"{platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs",
        "seed": args.seed, "time limit": f"{_format_limit(args.time_limit)} s per run",
        "grid": ",".join(map(format_grid_point, args.grid)),
        "jobs": args.jobs,
        "solvers": "; ".join(f"{s} ({solver_version(s, client_bin)})" for s in args.solvers),
    }

    if args.threads != [None]:
        meta["relufit threads"] = (", ".join(map(str, args.threads)) + " search threads asked "
                                   "per solve (the server caps them at its --search-threads)")
    # One task per instance and solver, relufit's once per thread count.
    tasks = [(inst, s, t) for inst in instances for s in args.solvers
             for t in (args.threads if s == "relufit" else [None])]
    outcomes: dict = {}
    lock = threading.Lock()
    done = [0]

    def run_task(inst: Instance, solver: str, threads: Optional[int],
                 server: Optional[RelufitServer]) -> None:
        log = log_dir / f"{inst.name}.{solver}{thread_suffix(threads)}.log"
        if solver == "z3":
            o = run_z3(inst, args.time_limit, args.grace, log)
        elif solver == "cvc5":
            o = run_cvc5(inst, args.time_limit, args.grace, log)
        else:
            address = server.ensure_running(f"before {inst.name}")
            o = run_relufit(inst, args.time_limit, args.grace, log, client_bin, address,
                            response_dir, server.proc.pid, threads)
            if o.status == ERROR and not server.alive():
                # The server went away during the run: restart it and retry once.
                address = server.ensure_running(f"while solving {inst.name}")
                o = run_relufit(inst, args.time_limit, args.grace, log, client_bin, address,
                                response_dir, server.proc.pid, threads)
        with lock:
            outcomes[(inst.name, solver, threads)] = o
            done[0] += 1
            note = f"  [{o.detail}]" if o.detail and o.status not in DECIDED else ""
            flag = "  !!! " + o.problem if o.problem else ""
            who = solver if threads is None else f"{solver}@{threads}"
            print(f"[{done[0]:>3}/{len(tasks)}] {inst.name:<36} {who:<10} {o.status:<10} "
                  f"{o.seconds:8.2f} s{note}{flag}", file=sys.stderr)

    def run_all(server: Optional[RelufitServer]) -> None:
        if args.jobs == 1:
            for inst, s, t in tasks:
                run_task(inst, s, t, server)
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for future in [pool.submit(run_task, inst, s, t, server) for inst, s, t in tasks]:
                future.result()

    server_exits: list = []
    try:
        if "relufit" in args.solvers:
            server = RelufitServer(server_bin, client_bin, out_dir,
                                   shlex.split(args.server_args))
            with server as srv:
                if any(solver in PEERS for solver in args.solvers):
                    export_smtlib(instances, client_bin, srv.address, log_dir)
                    meta["SMT-LIB input of the peers"] = "`relufit export --format smt2`"
                if srv.search_threads is not None:
                    meta["relufit server default"] = (f"{srv.search_threads} search thread(s) "
                                                      "per solve (from its log)")
                run_all(srv)
                server_exits = srv.exits
        else:
            run_all(None)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 2

    rows = [Row(inst, {s: outcomes[(inst.name, s, t if s == "relufit" else None)]
                       for s in args.solvers}, threads=t, first=i == 0)
            for inst in instances for i, t in enumerate(args.threads)]
    evaluate(rows, args.solvers, args.time_limit)
    # A peer's problem shows on every row of its instance: list it once.
    problems = list(dict.fromkeys(f"{r.inst.name}: {p}" for r in rows for p in r.problems))
    problems += [f"SERVER EXIT: {e}" for e in server_exits]
    summary = summary_lines(rows, args.solvers)
    write_csv(out_dir / "results.csv", rows, args.solvers)
    write_markdown(out_dir / "results.md", rows, args.solvers, meta, summary, problems)
    png = plot(out_dir, rows, args.solvers, args.time_limit, args.seed)

    print("\n".join(["", "summary:"] + summary), file=sys.stderr)
    print(f"wrote {out_dir / 'results.md'}, {out_dir / 'results.csv'}"
          + (f", {png}" if png else ""), file=sys.stderr)
    if problems:
        bar = "!" * 78
        print("\n".join(["", bar, f"!!! {len(problems)} PROBLEM(S) found "
                         "(see results.md)", bar]
                        + [f"!!! {p}" for p in problems] + [bar]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
