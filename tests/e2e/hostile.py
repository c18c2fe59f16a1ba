#!/usr/bin/env python3
"""Hostile inputs for tests/e2e/hardening.sh (standard library only).

  hostile.py degree64 DIR        request + response with roots of t^64 - 2, t^64 - 3
  hostile.py slow DIR            request + response whose exact check takes ~20 s
                                 although every step is within the checker's limits
  hostile.py edit STORE ID MODE  changes job ID's stored result: MODE 'raw' edits a byte
                                 (the checksum no longer matches), 'resum' also rewrites
                                 the checksum (only the checker can notice)
  hostile.py flip STORE SEED N   flips N random bytes past the first page of a copy
  hostile.py count STORE         number of jobs in the store
  hostile.py raw ADDR            undecodable bytes to Solve, SubmitJob and WatchJob; prints
                                 each call's status code and message
  hostile.py late ADDR           a 6 MB SubmitJob with a 20 ms deadline (passed on arrival)
  hostile.py noauth ADDR PROTO   calls every rpc of the service in PROTO (read from the file,
                                 so a new rpc is covered) without a token; prints each status
"""
import hashlib
import json
import os
import random
import sqlite3
import struct
import sys
from math import comb


def write(dirname, name, obj):
    with open(os.path.join(dirname, name), "w") as f:
        json.dump(obj, f)


def degree64(dirname):
    def root(c):
        return {"algebraic": {"min_poly": ["-%d" % c] + ["0"] * 63 + ["1"], "lower": "1", "upper": "2"}}
    req = {"architecture": {"input_dim": 2, "hidden_width": 1, "output_dim": 1,
                            "hidden_bias": False, "output_bias": False},
           "dataset": {"samples": [{"x": ["1", "1"], "y": ["1"]}]}}
    resp = {"verdict": "VERDICT_FEASIBLE",
            "network": {"neurons": [{"input_weights": [root(2), root(3)],
                                     "output_weights": [{"rational": "1"}]}],
                        "activation": ["1"]}}
    write(dirname, "degree64_request.json", req)
    write(dirname, "degree64_response.json", resp)


def slow(dirname):
    # 6 neurons x 64 inputs; weights alpha + k (k = 0..3) for a root alpha of
    # t^8 - (2^800 + 1): one field of degree 8, each step factors a degree-64
    # resultant (~50 ms), 384 steps before the first comparison.
    d, m, deg = 64, 6, 8
    c = 2 ** 800 + 1
    center = 2 ** 100

    def shifted(k):
        coeffs = [comb(deg, i) * (-k) ** (deg - i) for i in range(deg + 1)]
        coeffs[0] -= c
        return {"algebraic": {"min_poly": [str(v) for v in coeffs],
                              "lower": str(center + k - 1), "upper": str(center + k + 1)}}
    req = {"architecture": {"input_dim": d, "hidden_width": m, "output_dim": 1,
                            "hidden_bias": False, "output_bias": False},
           "dataset": {"samples": [{"x": [str(t + 1) for t in range(d)], "y": ["1"]}]}}
    neuron = {"input_weights": [shifted(t % 4) for t in range(d)], "output_weights": [{"rational": "1"}]}
    resp = {"verdict": "VERDICT_FEASIBLE", "network": {"neurons": [neuron] * m, "activation": ["1" * m]}}
    write(dirname, "slow_request.json", req)
    write(dirname, "slow_response.json", resp)


def checksum(row):
    """The store's row checksum (server/job_store.cpp row_checksum)."""
    h = hashlib.sha256()

    def field(b):
        if isinstance(b, int):
            b = str(b).encode()
        elif isinstance(b, str):
            b = b.encode()
        elif b is None:
            b = b""
        h.update(struct.pack("<Q", len(b)))
        h.update(b)
    field("relufit.jobs.v1")
    for v in row[:-2]:
        field(v)
    owner, kind = row[-2], row[-1]
    if kind != 1:  # Minimize and MinWidth jobs: the owner (even empty), then the kind
        field(owner)
        field("kind %d" % kind)
    elif owner:  # Solve jobs: the owner, when there is one
        field(owner)
    return h.hexdigest()


COLS = ("id, state, state_reason, request, result, progress, created_ms, started_ms, "
        "finished_ms, attempts, verdict, owner, kind")


def edit(store, job_id, mode):
    db = sqlite3.connect(store)
    row = list(db.execute("SELECT " + COLS + " FROM jobs WHERE id=?", (job_id,)).fetchone())
    result = bytearray(row[4])
    # Change one digit of the first weight or Farkas value: a number stays a number.
    for i in range(len(result)):
        if chr(result[i]).isdigit() and result[i] != ord("9"):
            result[i] += 1
            break
    row[4] = bytes(result)
    if mode == "resum":
        db.execute("UPDATE jobs SET result=?, checksum=? WHERE id=?", (row[4], checksum(row), job_id))
    else:
        db.execute("UPDATE jobs SET result=? WHERE id=?", (row[4], job_id))
    db.commit()
    db.close()


def flip(store, seed, n):
    rnd = random.Random(seed)
    size = os.path.getsize(store)
    with open(store, "r+b") as f:
        for _ in range(n):
            pos = rnd.randrange(4096, size) if size > 4096 else rnd.randrange(100, size)
            f.seek(pos)
            b = f.read(1)
            f.seek(pos)
            f.write(bytes([b[0] ^ (1 << rnd.randrange(8))]))


def count(store):
    db = sqlite3.connect(store)
    print(db.execute("SELECT count(*) FROM jobs").fetchone()[0])


def raw(addr):
    import grpc
    ch = grpc.insecure_channel(addr)
    for method, kind in (("Solve", "unary_unary"), ("SubmitJob", "unary_unary"), ("WatchJob", "unary_stream")):
        call = getattr(ch, kind)("/relufit.v1.ReluFitService/" + method)
        try:
            out = call(b"\xff\xff\xff\xff\x0f", timeout=10)
            if kind == "unary_stream":
                list(out)
            print(method, "OK")
        except grpc.RpcError as e:
            print(method, e.code().name, e.details())


def late(addr):
    import grpc
    # SubmitJobRequest{request: SolveRequest{architecture, dataset}} by hand
    # (no generated stubs needed): 2000 samples of 1000-digit numbers.
    def field(num, payload):
        key = bytes([num << 3 | 2])
        n, length = len(payload), b""
        while True:
            b = n & 0x7F
            n >>= 7
            length += bytes([b | (0x80 if n else 0)])
            if not n:
                break
        return key + length + payload
    def varint_field(num, v):
        return bytes([num << 3, v])
    arch = varint_field(1, 1) + varint_field(2, 1) + varint_field(3, 1)
    digits = ("7" * 990).encode()
    samples = b"".join(field(1, field(1, str(i).encode() + digits) + field(2, digits)) for i in range(2000))
    solve = field(1, arch) + field(2, samples)
    submit = field(1, solve)
    ch = grpc.insecure_channel(addr)
    call = ch.unary_unary("/relufit.v1.ReluFitService/SubmitJob")
    try:
        call(submit, timeout=0.02)
        print("SubmitJob OK")
    except grpc.RpcError as e:
        print("SubmitJob", e.code().name, e.details(), "(%d bytes)" % len(submit))


def noauth(addr, proto):
    import re
    import grpc
    text = open(proto).read()
    service = re.search(r"service\s+(\w+)\s*{", text).group(1)
    package = re.search(r"package\s+([\w.]+)\s*;", text).group(1)
    ch = grpc.insecure_channel(addr)
    for name, streaming in re.findall(r"rpc\s+(\w+)\s*\([^)]*\)\s*returns\s*\((stream\s+)?", text):
        path = "/%s.%s/%s" % (package, service, name)
        call = ch.unary_stream(path) if streaming else ch.unary_unary(path)
        try:
            out = call(b"", timeout=10)
            if streaming:
                list(out)
            print(name, "OK")
        except grpc.RpcError as e:
            print(name, e.code().name)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "degree64":
        degree64(sys.argv[2])
    elif cmd == "slow":
        slow(sys.argv[2])
    elif cmd == "edit":
        edit(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "flip":
        flip(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "count":
        count(sys.argv[2])
    elif cmd == "raw":
        raw(sys.argv[2])
    elif cmd == "late":
        late(sys.argv[2])
    elif cmd == "noauth":
        noauth(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
