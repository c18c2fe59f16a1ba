#!/usr/bin/env python3
"""Submits a relufit instance as a job, prints its progress, then the exact weights.

    PYTHONPATH=build/python/stubs /usr/bin/python3 python/examples/submit_and_watch.py \
        --server 127.0.0.1:50051 tests/golden/shared/planted_n10_d2_m2_k1.json

FILE is a SolveRequest in protobuf JSON (as in tests/golden/). Prints the job
id, one line per progress event, the verdict and, for FEASIBLE, every weight
as an exact fraction, then re-evaluates the network at every sample with
Python's Fraction to show the fit is exact. Exit status 0 when the job
finished (whatever the verdict), 1 otherwise, 2 for a failed call.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402

from relufit_client import (ReluFitClient, evaluate, load_request, pb,  # noqa: E402
                            to_fraction, weights)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", help="SolveRequest in protobuf JSON")
    parser.add_argument("--server", default="127.0.0.1:50051", help="HOST:PORT")
    parser.add_argument("--tls-ca", help="use TLS, trusting this CA certificate (PEM)")
    parser.add_argument("--token-file", help="file holding the access token "
                        "(else the RELUFIT_TOKEN environment variable)")
    args = parser.parse_args()

    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    request = load_request(args.file)

    try:
        with ReluFitClient(args.server, token=token, ca_file=args.tls_ca) as client:
            job_id = client.submit(request)
            print(f"job: {job_id}", flush=True)
            job = None
            for event in client.watch(job_id):
                p = event.progress
                print(f"progress: {pb.JobState.Name(event.state)} depth {p.max_depth}/"
                      f"{p.num_samples} nodes {p.nodes} LPs {p.lps_solved} "
                      f"elapsed {p.elapsed_seconds:.1f} s", flush=True)
                if event.HasField("final_job"):
                    job = event.final_job
    except grpc.RpcError as e:
        print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
        return 2

    if job is None or job.state != pb.JOB_STATE_DONE:
        state = pb.JobState.Name(job.state) if job is not None else "no final event"
        print(f"job did not finish: {state} {job.state_reason if job else ''}")
        return 1

    result = job.result
    print(f"verdict: {pb.Verdict.Name(result.verdict).removeprefix('VERDICT_')}")
    if result.verdict == pb.VERDICT_FEASIBLE:
        net = weights(result)
        for j, neuron in enumerate(net["neurons"]):
            print(f"neuron {j}:")
            for t, w in enumerate(neuron["w"]):
                print(f"  w[{t}] = {w}")
            if neuron["b"] is not None:
                print(f"  b    = {neuron['b']}")
            for o, a in enumerate(neuron["a"]):
                print(f"  a[{o}] = {a}")
        if net["c"] is not None:
            for o, c in enumerate(net["c"]):
                print(f"output bias c[{o}] = {c}")
        misfits = [i for i, s in enumerate(request.dataset.samples)
                   if evaluate(net, list(s.x)) != [to_fraction(y) for y in s.y]]
        if misfits:
            print(f"exact re-evaluation: samples {misfits} are NOT fitted")
            return 1
        print(f"exact re-evaluation: all {len(request.dataset.samples)} samples fitted exactly")
    elif result.verdict == pb.VERDICT_INFEASIBLE:
        print(f"proof: {result.certificate.WhichOneof('proof')}")
    else:
        print(f"reason: {result.reason}")
    print(f"checked: {result.check_summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
