#!/usr/bin/env python3
"""End-to-end test of the Python client against a real relufit-server.

Starts relufit-server on a free port (--listen 127.0.0.1:0; the port is read
back from its log line), runs examples/submit_and_watch.py on the planted
instance and checks its output (progress, FEASIBLE, exact weights, exact
re-evaluation), then exercises the module directly: solve, Verify, result,
cancel, list_jobs, Minimize and MinWidth in one call and as jobs
(submit_minimize, submit_min_width), NOT_FOUND, exact-number helpers. Stops the server with
SIGTERM and expects exit status 0. Run by ctest (python/CMakeLists.txt).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)

failures = 0


def check(condition, what, detail=""):
    global failures
    if condition:
        print(f"ok: {what}")
    else:
        failures += 1
        print(f"FAIL: {what}" + (f"\n{detail}" if detail else ""))


def start_server(server_bin, work):
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([server_bin, "--listen", "127.0.0.1:0",
                             "--store", os.path.join(work, "jobs.sqlite3")],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 15
    while time.time() < deadline:
        with open(log_path) as f:
            m = re.search(r"listening on \S+ \(port (\d+)\)", f.read())
        if m:
            return proc, int(m.group(1)), log_path
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start:\n" + open(log_path).read())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--golden", required=True, help="tests/golden/shared")
    args = parser.parse_args()
    sys.path[:0] = [args.stubs, PYTHON_DIR]
    env = dict(os.environ, PYTHONPATH=args.stubs)
    planted = os.path.join(args.golden, "planted_n10_d2_m2_k1.json")

    with tempfile.TemporaryDirectory(prefix="relufit-python-") as work:
        proc, port, log_path = start_server(args.server_bin, work)
        addr = f"127.0.0.1:{port}"
        try:
            run_checks(args, env, addr, planted)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = "timeout"
            check(rc == 0, f"server exits 0 on SIGTERM (got {rc})", open(log_path).read())
    print(f"{failures} failure(s)")
    return 1 if failures else 0


def run_checks(args, env, addr, planted):
    # 1. The example, as a user would run it.
    example = os.path.join(PYTHON_DIR, "examples", "submit_and_watch.py")
    run = subprocess.run([sys.executable, example, "--server", addr, planted],
                         env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout
    print("--- example output\n" + out + run.stderr + "---")
    check(run.returncode == 0, f"example exits 0 (got {run.returncode})")
    job = re.search(r"^job: (\S+)$", out, re.M)
    check(job is not None, "example prints the job id")
    # The depth is the search's: 0 when the primal heuristic fits before any branching.
    check(re.search(r"^progress: JOB_STATE_DONE depth \d+/10 ", out, re.M) is not None,
          "example prints progress ending in JOB_STATE_DONE at depth d/10")
    check(re.search(r"^verdict: FEASIBLE$", out, re.M) is not None, "verdict FEASIBLE")
    printed = re.findall(r"^  (w\[\d\]|b   |a\[0\]) = (-?\d+(?:/\d+)?)$", out, re.M)
    check(len(printed) == 2 * (2 + 1 + 1), f"8 exact weights printed (got {len(printed)})")
    check(re.search(r"^output bias c\[0\] = -?\d+(/\d+)?$", out, re.M) is not None,
          "output bias printed")
    check("exact re-evaluation: all 10 samples fitted exactly" in out,
          "exact re-evaluation in Python fits all 10 samples")
    check("checked: network of width 2 fits all 10 samples exactly" in out,
          "server's checker summary printed")

    # 2. The module directly.
    import grpc
    from relufit_client import (ReluFitClient, build_request, evaluate, load_request, pb,
                                request_from_dict, to_dict, to_fraction, weights)

    with ReluFitClient(addr, timeout=60) as client:
        if job:
            job_id = job.group(1)
            result = client.result(job_id)
            net = weights(result)
            printed_values = [Fraction(v) for _, v in printed]
            stored = []
            for n in net["neurons"]:
                stored += n["w"] + [n["b"]] + n["a"]
            check(printed_values == stored, "printed weights equal the stored result exactly")
            check(client.verify(planted, result).valid, "Verify accepts the job's result")
            check(client.cancel(job_id).state == pb.JOB_STATE_DONE,
                  "cancelling a finished job leaves it DONE")
            check(any(j.job_id == job_id for j in client.list_jobs()), "list_jobs lists the job")

        # Minimize and MinWidth (issue 15): XOR with one neuron has least
        # L-inf error 1/2 and needs width 2 (hand-derived, tests/unit/erm_test.cpp).
        xor_path = os.path.join(args.golden, "xor_m1.json")
        least = client.minimize(xor_path, "linf")
        check(least.status == pb.MINIMIZE_STATUS_OPTIMAL and to_fraction(least.optimal_error) == Fraction(1, 2)
              and least.loss == pb.LOSS_LINF, "minimize: XOR, one neuron, least L-inf error 1/2", str(least))
        check(client.verify_minimize(pb.MinimizeRequest(request=load_request(xor_path), loss=pb.LOSS_LINF),
                                     least).valid, "Verify accepts the Minimize answer")
        forged = pb.MinimizeResponse()
        forged.CopyFrom(least)
        forged.optimal_error = "1/3"
        check(not client.verify_minimize(pb.MinimizeRequest(request=load_request(xor_path), loss=pb.LOSS_LINF),
                                         forged).valid, "Verify rejects a forged optimum")
        width = client.min_width(xor_path, max_width=4)
        check(width.verdict == pb.VERDICT_FEASIBLE and width.width == 2
              and width.below.verdict == pb.VERDICT_INFEASIBLE, "min_width: XOR needs width 2", str(width))
        check(client.verify_min_width(pb.MinWidthRequest(request=load_request(xor_path), max_width=4),
                                      width).valid, "Verify accepts the MinWidth answer")
        # The same two questions as stored jobs: the results are the checked
        # MinimizeResponse and MinWidthResponse, listed with their kind.
        l1_job = client.submit_minimize(xor_path, "l1")
        done = client.wait(l1_job)
        check(done.state == pb.JOB_STATE_DONE and done.kind == pb.JOB_KIND_MINIMIZE
              and done.minimize_status == pb.MINIMIZE_STATUS_OPTIMAL,
              "submit_minimize: a DONE Minimize job", str(done.state) + " " + done.state_reason)
        least_l1 = client.result(l1_job)
        check(isinstance(least_l1, pb.MinimizeResponse) and to_fraction(least_l1.optimal_error) == Fraction(1)
              and least_l1.loss == pb.LOSS_L1, "Minimize job: XOR, one neuron, least L1 error 1", str(least_l1))
        check(client.verify_minimize(pb.MinimizeRequest(request=load_request(xor_path), loss=pb.LOSS_L1),
                                     least_l1).valid, "Verify accepts the Minimize job's result")
        asked = client.get_job(l1_job, include_request=True)
        check(asked.minimize_request.loss == pb.LOSS_L1 and not asked.HasField("request"),
              "get_job(include_request) gives the MinimizeRequest, not a SolveRequest")
        width_job = client.submit_min_width(xor_path, max_width=4)
        client.wait(width_job)
        width_result = client.result(width_job)
        check(isinstance(width_result, pb.MinWidthResponse) and width_result.verdict == pb.VERDICT_FEASIBLE
              and width_result.width == 2, "MinWidth job: XOR needs width 2", str(width_result)[:400])
        check(client.verify_min_width(pb.MinWidthRequest(request=load_request(xor_path), max_width=4),
                                      width_result).valid, "Verify accepts the MinWidth job's result")
        kinds = {j.job_id: (j.kind, j.verdict, j.minimize_status) for j in client.list_jobs()}
        check(kinds.get(l1_job) == (pb.JOB_KIND_MINIMIZE, pb.VERDICT_UNSPECIFIED, pb.MINIMIZE_STATUS_OPTIMAL)
              and kinds.get(width_job) == (pb.JOB_KIND_MIN_WIDTH, pb.VERDICT_FEASIBLE,
                                           pb.MINIMIZE_STATUS_UNSPECIFIED),
              "list_jobs: each job's kind and outcome", str(kinds))
        try:
            client._stub.SubmitJob(pb.SubmitJobRequest(), timeout=10)
            check(False, "SubmitJob with no request: INVALID_ARGUMENT")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT,
                  f"SubmitJob with no request: INVALID_ARGUMENT ({e.details()})")

        xor = client.solve(os.path.join(args.golden, "xor_m1.json"))
        check(xor.verdict == pb.VERDICT_INFEASIBLE and xor.certificate.HasField("case_tree"),
              "solve(path) of xor_m1: INFEASIBLE with a case tree")

        # y = max(0, x) - 1/3 exactly, one neuron: from exact Python numbers.
        request = build_request([[0], [1], [Fraction(5, 2)], ["-1.5"]],
                                [[Fraction(-1, 3)], [Fraction(2, 3)], ["13/6"], [Fraction(-1, 3)]],
                                hidden_width=1)
        response = client.solve(request)
        check(response.verdict == pb.VERDICT_FEASIBLE, "solve(build_request(...)) FEASIBLE")
        if response.verdict == pb.VERDICT_FEASIBLE:
            net = weights(response)
            check(all(evaluate(net, list(s.x)) == [Fraction(y) for y in s.y]
                      for s in request.dataset.samples), "evaluate() reproduces every label exactly")
        same = request_from_dict(to_dict(request))
        check(same == request, "to_dict / request_from_dict round trip")
        threaded = build_request([[0], [1]], [[0], [1]], hidden_width=1, threads=1)
        check(threaded.options.threads == 1
              and client.solve(threaded).verdict == pb.VERDICT_FEASIBLE,
              "build_request(threads=1) sets options.threads and solves")
        check(load_request(planted).architecture.hidden_width == 2, "load_request reads JSON")
        try:
            build_request([[0.1]], [[1]], hidden_width=1)
            check(False, "float inputs are refused")
        except TypeError:
            check(True, "float inputs are refused")

        try:
            client.get_job("no-such-job")
            check(False, "unknown job: NOT_FOUND")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.NOT_FOUND, f"unknown job: NOT_FOUND (got {e.code()})")
        try:
            client.solve({"architecture": {"input_dim": 1, "hidden_width": 1, "output_dim": 1},
                          "dataset": {"samples": [{"x": ["1/0"], "y": ["1"]}]}})
            check(False, "bad number: INVALID_ARGUMENT")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "samples[0].x[0]" in e.details(),
                  f"bad number: INVALID_ARGUMENT naming the field ({e.details()})")


if __name__ == "__main__":
    sys.exit(main())
