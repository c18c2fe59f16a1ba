"""The network of a fit in the formats other tools load, and its pictures.

Against a real relufit-server (port 0, read back from its log): golden fits
are solved with options.include_regions, then
- the regions in the response tile the box and give each sample its label;
- `relufit plot` writes PNG, SVG and PDF;
- `relufit model --format onnx` passes python3-onnx's checker, and the
  model, evaluated from its own graph (Gemm, Relu) with numpy, matches the
  exact labels within float rounding;
- `relufit model --format smt2` is read by z3 together with the problem of
  `relufit export`: sat with the model's values asserted, unsat with one of
  them changed;
- `relufit model --format python` runs and fits its samples;
- relufit_client.to_torch() matches the labels (when PyTorch is installed).
A hand-made fit with irrational weights (sqrt 2) covers the algebraic paths.

Usage: test_models.py --server-bin BIN --client-bin BIN --stubs DIR --golden tests/golden
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from fractions import Fraction

sys.path.insert(0, os.path.dirname(__file__))
from test_client import start_server  # noqa: E402  (same folder)
import test_client  # noqa: E402


def check(condition, what, detail=""):
    """test_client.check, returning the condition."""
    test_client.check(condition, what, detail)
    return condition

# Fits: (golden name, seconds). Rational weights; d = 1 and 2, k = 1..3,
# with and without biases.
GOLDEN_FITS = [
    ("hat_m2", 30),
    ("kink_at_zero_d1_nobias_m2", 30),
    ("planted_n20_d2_m2_k1_s7", 60),
    ("planted_n12_d2_m2_k2_s2", 60),
    ("planted_n10_d2_m2_k3_s4", 60),
    ("constant_no_output_bias_m1", 30),
]

# relu(sqrt2 x + sqrt2) * sqrt2/2 = relu(x + 1): rational labels, irrational weights.
SQRT2 = {"algebraic": {"min_poly": ["-2", "0", "1"], "lower": "1", "upper": "2"},
         "decimal": "1.41421356237309504880168872421"}
HALF_SQRT2 = {"algebraic": {"min_poly": ["-1", "0", "2"], "lower": "0", "upper": "1"},
              "decimal": "0.707106781186547524400844362105"}
IRRATIONAL_REQUEST = {
    "architecture": {"input_dim": 1, "hidden_width": 1, "output_dim": 1},
    "dataset": {"samples": [{"x": ["0"], "y": ["1"]}, {"x": ["1"], "y": ["2"]},
                            {"x": ["-2"], "y": ["0"]}, {"x": ["1/2"], "y": ["3/2"]}]},
}
IRRATIONAL_RESPONSE = {
    "verdict": "VERDICT_FEASIBLE",
    "network": {"neurons": [{"input_weights": [SQRT2], "bias": SQRT2, "output_weights": [HALF_SQRT2]}],
                "output_bias": [{"rational": "0", "decimal": "0"}],
                "activation": ["1", "1", "0", "1"]},
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=kw.pop("text", True), timeout=kw.pop("timeout", 120), **kw)


# ---- ONNX ------------------------------------------------------------------

def onnx_round_trip(client, req_path, resp_path, samples, work, name):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    for dtype, tol in (("float32", 2e-5), ("float64", 1e-12)):
        out = os.path.join(work, f"{name}.{dtype}.onnx")
        cmd = [client, "model", req_path, resp_path, "--format", "onnx", "-o", out]
        if dtype == "float64":
            cmd.append("--double")
        r = run(cmd)
        if not check(r.returncode == 0, f"{name}: relufit model --format onnx ({dtype})", r.stderr):
            continue
        model = onnx.load(out)
        try:
            onnx.checker.check_model(model, full_check=True)
            check(True, f"{name}: onnx checker accepts the {dtype} model")
        except Exception as error:  # onnx.checker.ValidationError and shape inference errors
            check(False, f"{name}: onnx checker accepts the {dtype} model", str(error))
            continue
        ops = [n.op_type for n in model.graph.node]
        check(ops == ["Gemm", "Relu", "Gemm"], f"{name}: graph is Gemm, Relu, Gemm ({ops})")
        # Evaluate the graph as written (the reference evaluator of ONNX 1.13+
        # and onnxruntime are not in Debian 12).
        values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        x = np.array([[float(Fraction(v)) for v in s[0]] for s in samples],
                     dtype=np.float32 if dtype == "float32" else np.float64)
        values[model.graph.input[0].name] = x
        for node in model.graph.node:
            ins = [values[i] for i in node.input]
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type == "Gemm":
                a, b = ins[0], ins[1]
                if attrs.get("transA", 0):
                    a = a.T
                if attrs.get("transB", 0):
                    b = b.T
                y = attrs.get("alpha", 1.0) * (a @ b)
                if len(ins) > 2:
                    y = y + attrs.get("beta", 1.0) * ins[2]
                values[node.output[0]] = y.astype(x.dtype)
            elif node.op_type == "Relu":
                values[node.output[0]] = np.maximum(ins[0], 0)
        y = values[model.graph.output[0].name]
        worst = 0.0
        for i, s in enumerate(samples):
            for o, label in enumerate(s[1]):
                exact = float(Fraction(label))
                worst = max(worst, abs(float(y[i][o]) - exact) / (1 + abs(exact)))
        check(worst <= tol, f"{name}: ONNX {dtype} outputs match the labels (worst relative {worst:.2g} <= {tol})")


# ---- SMT-LIB ----------------------------------------------------------------

def parse_sexp(text):
    tokens = re.findall(r"\(|\)|[^\s()]+", re.sub(r";[^\n]*", "", text))
    stack = [[]]
    for t in tokens:
        if t == "(":
            stack.append([])
        elif t == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(t)
    return stack[0]


def show(sexp):
    return sexp if isinstance(sexp, str) else "(" + " ".join(show(s) for s in sexp) + ")"


def model_constraints(model_text):
    """(name, SMT-LIB assertion pinning it) for every define-fun of a model."""
    (defs,) = parse_sexp(model_text)
    out = []
    for d in defs:
        assert d[0] == "define-fun" and d[2] == [] and d[3] == "Real", d
        name, value = d[1], d[4]
        if isinstance(value, list) and value[0] == "root-of-with-interval":
            coeffs = value[1][1:]
            poly = "(+ " + " ".join(f"(* {show(c)} {'(* ' * (i - 1)}{name}{(' ' + name + ')') * (i - 1)})"
                                     if i else show(c) for i, c in enumerate(coeffs)) + ")"
            out.append((name, f"(and (= {poly} 0) (<= {show(value[2])} {name}) (<= {name} {show(value[3])}))"))
        else:
            out.append((name, f"(= {name} {show(value)})"))
    return out


def z3_answer(script, work, name):
    path = os.path.join(work, name + ".check.smt2")
    with open(path, "w") as f:
        f.write(script)
    r = run(["z3", "-T:60", path])
    return r.stdout.strip().splitlines()[0] if r.stdout.strip() else r.stderr


def smt2_round_trip(client, port, req_path, resp_path, work, name, try_wrong):
    r = run([client, "model", req_path, resp_path, "--format", "smt2"])
    if not check(r.returncode == 0, f"{name}: relufit model --format smt2", r.stderr):
        return
    model = r.stdout
    problem_path = os.path.join(work, name + ".problem.smt2")
    e = run([client, "--server", f"127.0.0.1:{port}", "export", req_path, "--format", "smt2", "-o", problem_path])
    if not check(e.returncode == 0, f"{name}: relufit export --format smt2", e.stderr):
        return
    problem = open(problem_path).read()
    body = problem.replace("(check-sat)", "").replace("(get-model)", "")
    declared = set(re.findall(r"\(declare-fun (\S+) \(\) Real\)", problem))
    pins = model_constraints(model)
    check({n for n, _ in pins} == declared,
          f"{name}: the model defines every constant of the export ({len(declared)})",
          f"missing {sorted(declared - {n for n, _ in pins})}, extra {sorted({n for n, _ in pins} - declared)}")
    if "root-of-with-interval" in model:
        check(re.search(r"\(root-of-with-interval \(coeffs [^()]*(\(- \d+\)[^()]*)*\) \S+ \S+\)", model) is not None,
              f"{name}: irrational values as (root-of-with-interval (coeffs ...) lo hi)", model)
    script = body + "".join(f"(assert {c})\n" for _, c in pins) + "(check-sat)\n"
    answer = z3_answer(script, work, name)
    check(answer == "sat", f"{name}: z3 reads the model with the problem: {answer}")
    if try_wrong:
        # The output bias changed, everything else kept: the samples' equations
        # force c, so no value satisfies them.
        n, c = next((n, c) for n, c in pins if n.startswith("c_"))
        wrong_script = body + "".join(f"(assert {d})\n" for m, d in pins if m != n) + \
            f"(assert (not {c}))\n(check-sat)\n"
        answer = z3_answer(wrong_script, work, name + "-wrong")
        check(answer == "unsat", f"{name}: z3 rejects the model with {n} changed: {answer}")


# ---- main ----------------------------------------------------------------------

def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def check_regions(pb_client, response, request, name):
    fr = pb_client.regions(response)
    lo, hi = fr["box"]
    d = len(lo)
    if d == 2:
        total = Fraction(0)
        for r in fr["regions"]:
            v = r["vertices"]
            total += sum(v[i][0] * v[(i + 1) % len(v)][1] - v[(i + 1) % len(v)][0] * v[i][1] for i in range(len(v))) / 2
        check(total == (hi[0] - lo[0]) * (hi[1] - lo[1]),
              f"{name}: {len(fr['regions'])} regions tile the box exactly")
    else:
        ends = [(r["vertices"][0][0], r["vertices"][1][0]) for r in fr["regions"]]
        check(ends[0][0] == lo[0] and ends[-1][1] == hi[0] and all(a[1] == b[0] for a, b in zip(ends, ends[1:])),
              f"{name}: {len(ends)} intervals cover [{lo[0]}, {hi[0]}]")
    bad = 0
    for s in request["dataset"]["samples"]:
        x = [Fraction(v) for v in s["x"]]
        y = [Fraction(v) for v in s["y"]]
        for r in fr["regions"]:
            v = r["vertices"]
            if d == 1:
                inside = v[0][0] <= x[0] <= v[1][0]
            else:
                inside = all((v[(i + 1) % len(v)][0] - v[i][0]) * (x[1] - v[i][1]) -
                             (v[(i + 1) % len(v)][1] - v[i][1]) * (x[0] - v[i][0]) >= 0 for i in range(len(v)))
            if inside:
                got = [sum((g * xt for g, xt in zip(grad, x)), off) for grad, off in r["maps"]]
                bad += got != y
                break
        else:
            bad += 1
    check(bad == 0, f"{name}: each sample's region maps it to its label ({bad} not)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--client-bin", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--golden", required=True, help="tests/golden")
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import relufit_client as rc
    from google.protobuf import json_format

    work = tempfile.mkdtemp(prefix="relufit-models-")
    proc = None
    try:
        proc, port, log_path = start_server(args.server_bin, work)
        client = args.client_bin
        cases = []
        with rc.ReluFitClient(f"127.0.0.1:{port}") as api:
            for name, seconds in GOLDEN_FITS:
                request = json.load(open(os.path.join(args.golden, name + ".json")))
                request.setdefault("options", {})["include_regions"] = True
                request["options"]["time_limit_seconds"] = seconds
                response = api.solve(rc.request_from_dict(request))
                if not check(response.verdict == rc.pb.VERDICT_FEASIBLE, f"{name}: FEASIBLE",
                             rc.to_json(response)[:500]):
                    continue
                if request["architecture"]["input_dim"] <= 2:
                    check_regions(rc, response, request, name)
                else:
                    check(not response.HasField("regions"), f"{name}: no regions for input_dim 3")
                cases.append((name, request, rc.to_json(response), response))
            # Without include_regions: no regions.
            plain = api.solve(rc.load_request(os.path.join(args.golden, "hat_m2.json")))
            check(not plain.HasField("regions"), "no regions unless asked for")
        irr_response = json_format.ParseDict(IRRATIONAL_RESPONSE, rc.pb.SolveResponse())
        cases.append(("sqrt2_by_hand", IRRATIONAL_REQUEST, rc.to_json(irr_response), irr_response))

        try:
            import onnx  # noqa: F401
            import numpy  # noqa: F401
            have_onnx = True
        except ImportError:
            have_onnx = False
            print("skip: ONNX checks (python3-onnx, python3-numpy not installed)")
        try:
            import torch  # noqa: F401
            have_torch = True
        except ImportError:
            have_torch = False
            print("skip: to_torch() (python3-torch not installed)")

        for name, request, response_json, response in cases:
            req_path = os.path.join(work, name + ".request.json")
            resp_path = os.path.join(work, name + ".response.json")
            with open(req_path, "w") as f:
                json.dump(request, f)
            with open(resp_path, "w") as f:
                f.write(response_json)
            samples = [(s["x"], s["y"]) for s in request["dataset"]["samples"]]
            v = run([client, "verify", req_path, resp_path])
            check(v.returncode == 0, f"{name}: relufit verify accepts the answer", v.stdout + v.stderr)

            if request["architecture"]["input_dim"] > 2:
                r = run([client, "plot", req_path, resp_path, "-o", os.path.join(work, name + ".png")])
                check(r.returncode == 2 and "input_dim 1 and 2" in r.stderr,
                      f"{name}: no picture of a fit with input_dim 3, and the reason", r.stderr)
            for ext in ("png", "svg", "pdf") if request["architecture"]["input_dim"] <= 2 else ():
                out = os.path.join(work, f"{name}.{ext}")
                r = run([client, "plot", req_path, resp_path, "-o", out])
                ok = r.returncode == 0 and os.path.getsize(out) > 1000
                if ok and ext == "png":
                    size = png_size(out)
                    ok = size is not None and size[0] >= 1000 and size[1] >= 400
                check(ok, f"{name}: relufit plot -o {name}.{ext}", r.stderr)

            if have_onnx:
                onnx_round_trip(client, req_path, resp_path, samples, work, name)
            smt2_round_trip(client, port, req_path, resp_path, work, name,
                            try_wrong=name == "planted_n20_d2_m2_k1_s7")

            py_path = os.path.join(work, name.replace("-", "_") + "_model.py")
            r = run([client, "model", req_path, resp_path, "--format", "python", "-o", py_path])
            if check(r.returncode == 0, f"{name}: relufit model --format python", r.stderr):
                r = run([sys.executable, py_path])
                check(r.returncode == 0 and "fits all" in r.stdout,
                      f"{name}: the Python model fits its samples: {r.stdout.strip()}", r.stderr)

            if have_torch:
                import torch
                net = rc.to_torch(response)
                x = torch.tensor([[float(Fraction(v)) for v in s[0]] for s in samples], dtype=torch.float64)
                with torch.no_grad():
                    y = net(x)
                worst = max(abs(float(y[i][o]) - float(Fraction(lab))) / (1 + abs(float(Fraction(lab))))
                            for i, s in enumerate(samples) for o, lab in enumerate(s[1]))
                check(worst <= 1e-12, f"{name}: to_torch() matches the labels (worst relative {worst:.2g})")

        # Nothing to write for an INFEASIBLE answer.
        xor_req = os.path.join(args.golden, "shared", "xor_m1.json")
        with rc.ReluFitClient(f"127.0.0.1:{port}") as api:
            xor = api.solve(rc.load_request(xor_req))
        xor_path = os.path.join(work, "xor.response.json")
        with open(xor_path, "w") as f:
            f.write(rc.to_json(xor))
        r = run([client, "model", xor_req, xor_path, "--format", "python"])
        check(r.returncode == 2 and "INFEASIBLE" in r.stderr, "model of an INFEASIBLE answer: refused", r.stderr)
        r = run([client, "plot", xor_req, xor_path, "-o", os.path.join(work, "xor.png")])
        check(r.returncode == 0, "plot of an INFEASIBLE answer (its proof)", r.stderr)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"test_models: {test_client.failures} failure(s)")
    sys.exit(1 if test_client.failures else 0)


if __name__ == "__main__":
    main()
