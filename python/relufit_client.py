"""A small Python client for relufit-server (gRPC API relufit.v1).

The stubs are generated from proto/relufit/v1/relufit.proto (see
python/README.md); put the directory holding ``relufit/v1/relufit_pb2.py`` on
``PYTHONPATH`` (the CMake build writes it to ``build/python/stubs``).

Numbers stay exact: the API writes every number as a string (an integer,
``"p/q"`` or a finite decimal), requests built here accept ``str``, ``int`` and
``fractions.Fraction`` and refuse ``float``, and :func:`to_fraction` turns the
weights of a response into ``Fraction`` values without rounding.

Example::

    from relufit_client import ReluFitClient, load_request

    with ReluFitClient("127.0.0.1:50051") as client:
        job_id = client.submit("tests/golden/shared/planted_n10_d2_m2_k1.json")
        for event in client.watch(job_id):
            print(event.state, event.progress.max_depth, event.progress.nodes)
        response = client.result(job_id)
        print(weights(response))

Errors from the server arrive as ``grpc.RpcError`` (``e.code()``,
``e.details()``): INVALID_ARGUMENT for a bad request, NOT_FOUND for an unknown
job, RESOURCE_EXHAUSTED past the server's limits, UNAUTHENTICATED without a
valid access token.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence, Union

import grpc
from google.protobuf import json_format

try:
    from relufit.v1 import relufit_pb2 as pb
    from relufit.v1 import relufit_pb2_grpc as pb_grpc
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "relufit stubs not found: generate them from proto/relufit/v1/relufit.proto "
        "(see python/README.md) and put the output directory on PYTHONPATH") from error

__all__ = [
    "ReluFitClient", "load_request", "request_from_dict", "request_from_json", "build_request",
    "to_dict", "to_json", "to_fraction", "weights", "evaluate", "regions", "to_torch", "job_result", "pb",
    "pb_grpc",
]

# What the client methods accept as a request.
RequestLike = Union["pb.SolveRequest", Mapping[str, Any], str, os.PathLike]
ExactLike = Union[str, int, Fraction]


# --- Requests -------------------------------------------------------------


def request_from_json(text: str) -> pb.SolveRequest:
    """Parses a SolveRequest from protobuf JSON (the format of tests/golden/)."""
    return json_format.Parse(text, pb.SolveRequest())


def request_from_dict(data: Mapping[str, Any]) -> pb.SolveRequest:
    """Builds a SolveRequest from a dict in protobuf JSON form.

    Sample coordinates may be ``str``, ``int`` or ``Fraction``; they are
    written as exact strings. ``float`` is refused (its binary value is rarely
    the number meant; write ``"0.1"`` or ``Fraction(1, 10)``).
    """
    data = json.loads(json.dumps(data, default=_exact_json))
    for i, sample in enumerate(data.get("dataset", {}).get("samples", [])):
        for key in ("x", "y"):
            if key in sample:
                sample[key] = [_exact_str(v, f"dataset.samples[{i}].{key}") for v in sample[key]]
    return json_format.ParseDict(data, pb.SolveRequest())


def load_request(path: Union[str, os.PathLike]) -> pb.SolveRequest:
    """Reads a SolveRequest from a protobuf JSON file."""
    return request_from_json(Path(path).read_text())


def build_request(xs: Sequence[Sequence[ExactLike]], ys: Sequence[Sequence[ExactLike]],
                  hidden_width: int, *, hidden_bias: bool = True, output_bias: bool = True,
                  time_limit_seconds: float = 0.0, node_limit: int = 0,
                  decimal_digits: int = 0, include_proof: bool = True,
                  threads: int = 0) -> pb.SolveRequest:
    """Builds a SolveRequest from inputs xs[i] and labels ys[i] (exact numbers).

    threads: search threads for this solve; 0 leaves it to the server (its
    --search-threads, by default every core), which also caps it."""
    if len(xs) != len(ys) or not xs:
        raise ValueError("xs and ys must be non-empty and of equal length")
    request = pb.SolveRequest()
    arch = request.architecture
    arch.input_dim = len(xs[0])
    arch.hidden_width = hidden_width
    arch.output_dim = len(ys[0])
    arch.hidden_bias = hidden_bias
    arch.output_bias = output_bias
    for i, (x, y) in enumerate(zip(xs, ys)):
        sample = request.dataset.samples.add()
        sample.x.extend(_exact_str(v, f"xs[{i}]") for v in x)
        sample.y.extend(_exact_str(v, f"ys[{i}]") for v in y)
    options = request.options
    options.time_limit_seconds = time_limit_seconds
    options.node_limit = node_limit
    options.decimal_digits = decimal_digits
    options.include_proof = include_proof
    options.threads = threads
    return request


def _exact_str(value: Any, where: str) -> str:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{where}: {value!r} is not exact; use a string, an int or a Fraction")
    if isinstance(value, (int, Fraction)):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{where}: {value!r} is not a number")


def _exact_json(value: Any) -> Any:
    if isinstance(value, Fraction):
        return str(value)
    raise TypeError(f"{value!r} is not JSON serializable")


def _as_request(request: RequestLike) -> pb.SolveRequest:
    if isinstance(request, pb.SolveRequest):
        return request
    if isinstance(request, Mapping):
        return request_from_dict(request)
    if isinstance(request, (str, os.PathLike)):
        return load_request(request)
    raise TypeError("request must be a SolveRequest, a dict in protobuf JSON form or a path")


# --- Responses ------------------------------------------------------------


def to_dict(message) -> dict:
    """Any API message as a dict in protobuf JSON form (field names as in the .proto)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def to_json(message) -> str:
    """Any API message as protobuf JSON text (what ``relufit ... --json`` prints)."""
    return json_format.MessageToJson(message, preserving_proto_field_name=True)


def to_fraction(number: Union["pb.ExactNumber", str]) -> Fraction:
    """The exact value of an ExactNumber (or of a number string of the API)."""
    text = number if isinstance(number, str) else number.rational
    return Fraction(text)


def weights(response: pb.SolveResponse) -> dict:
    """The network of a FEASIBLE response as exact Fractions.

    Returns ``{"neurons": [{"w": [...], "b": Fraction or None, "a": [...]}, ...],
    "c": [...] or None}``; ``b`` and ``c`` are None when the architecture has no
    such bias.
    """
    if response.verdict != pb.VERDICT_FEASIBLE:
        raise ValueError(f"no weights: verdict {pb.Verdict.Name(response.verdict)}")
    net = response.network
    neurons = []
    for neuron in net.neurons:
        neurons.append({
            "w": [to_fraction(v) for v in neuron.input_weights],
            "b": to_fraction(neuron.bias) if neuron.HasField("bias") else None,
            "a": [to_fraction(v) for v in neuron.output_weights],
        })
    c = [to_fraction(v) for v in net.output_bias] if len(net.output_bias) else None
    return {"neurons": neurons, "c": c}


def evaluate(network: dict, x: Sequence[ExactLike]) -> list:
    """f(x) of a network from :func:`weights`, computed exactly with Fractions."""
    xs = [Fraction(_exact_str(v, "x")) for v in x]
    outputs = len(network["neurons"][0]["a"]) if network["neurons"] else len(network["c"] or [])
    result = list(network["c"]) if network["c"] is not None else [Fraction(0)] * outputs
    for neuron in network["neurons"]:
        pre = sum((w * v for w, v in zip(neuron["w"], xs)), Fraction(0))
        if neuron["b"] is not None:
            pre += neuron["b"]
        if pre > 0:
            for o, a in enumerate(neuron["a"]):
                result[o] += a * pre
    return result


def regions(response: pb.SolveResponse) -> dict:
    """The linear regions of a fit (``SolveResponse.regions``) as Fractions.

    Present when the request set ``options.include_regions`` and the fit has
    input_dim 1 or 2. Returns ``{"box": (lower, upper), "approximated": bool,
    "regions": [{"vertices": [[x0, x1], ...], "activation": "10",
    "maps": [(gradient, offset), ...]}, ...]}``; on each region output o is
    ``gradient . x + offset``.
    """
    if not response.HasField("regions"):
        raise ValueError("the response has no regions (set options.include_regions; "
                         "input_dim 1 or 2, FEASIBLE only)")
    fr = response.regions
    return {
        "box": ([Fraction(v) for v in fr.box_lower], [Fraction(v) for v in fr.box_upper]),
        "approximated": fr.approximated,
        "regions": [{
            "vertices": [[Fraction(c) for c in v.coordinates] for v in r.vertices],
            "activation": r.activation,
            "maps": [([Fraction(g) for g in m.gradient], Fraction(m.offset)) for m in r.maps],
        } for r in fr.regions],
    }


def _nearest_float(number: "pb.ExactNumber") -> float:
    # float(Fraction) rounds to nearest; an irrational weight goes through its
    # decimal rendering (options.decimal_digits, 30 by default).
    return float(Fraction(number.rational)) if not number.HasField("algebraic") else float(number.decimal)


def to_torch(response: pb.SolveResponse, *, dtype=None):
    """The network of a FEASIBLE response as a ``torch.nn.Sequential``.

    ``Linear(d, m) -> ReLU -> Linear(m, k)`` (without a bias where the
    architecture has none), weights rounded to nearest from the exact ones;
    ``dtype`` defaults to ``torch.float64``. Needs PyTorch (Debian:
    python3-torch); raises ImportError without it.
    """
    import torch  # only here: PyTorch is optional

    if response.verdict != pb.VERDICT_FEASIBLE:
        raise ValueError(f"no network: verdict {pb.Verdict.Name(response.verdict)}")
    dtype = dtype or torch.float64
    neurons = response.network.neurons
    d, m = len(neurons[0].input_weights), len(neurons)
    k = len(neurons[0].output_weights)
    hidden_bias = neurons[0].HasField("bias")
    output_bias = len(response.network.output_bias) > 0
    hidden = torch.nn.Linear(d, m, bias=hidden_bias, dtype=dtype)
    output = torch.nn.Linear(m, k, bias=output_bias, dtype=dtype)
    with torch.no_grad():
        hidden.weight.copy_(torch.tensor(
            [[_nearest_float(w) for w in n.input_weights] for n in neurons], dtype=dtype))
        if hidden_bias:
            hidden.bias.copy_(torch.tensor([_nearest_float(n.bias) for n in neurons], dtype=dtype))
        output.weight.copy_(torch.tensor(
            [[_nearest_float(n.output_weights[o]) for n in neurons] for o in range(k)], dtype=dtype))
        if output_bias:
            output.bias.copy_(torch.tensor(
                [_nearest_float(c) for c in response.network.output_bias], dtype=dtype))
    return torch.nn.Sequential(hidden, torch.nn.ReLU(), output)


# --- Client ---------------------------------------------------------------


class ReluFitClient:
    """A connection to relufit-server.

    Args:
        target: ``HOST:PORT`` of the server.
        token: access token sent as ``authorization: Bearer TOKEN`` on every
            call; default the ``RELUFIT_TOKEN`` environment variable (none when
            unset).
        ca_file: PEM file of the CA to trust; turns TLS on.
        tls: TLS with the system's root certificates (when no ca_file).
        timeout: default deadline in seconds of unary calls (None: no deadline;
            the server's time limits still apply).
    """

    def __init__(self, target: str = "127.0.0.1:50051", *, token: str | None = None,
                 ca_file: Union[str, os.PathLike, None] = None, tls: bool = False,
                 timeout: float | None = None):
        options = [("grpc.max_receive_message_length", -1),
                   ("grpc.max_send_message_length", -1)]
        if ca_file is not None or tls:
            roots = Path(ca_file).read_bytes() if ca_file is not None else None
            credentials = grpc.ssl_channel_credentials(root_certificates=roots)
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = pb_grpc.ReluFitServiceStub(self._channel)
        if token is None:
            token = os.environ.get("RELUFIT_TOKEN") or None
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def close(self) -> None:
        """Closes the channel (cancels watches in progress)."""
        self._channel.close()

    def __enter__(self) -> "ReluFitClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout):
        return method(request, metadata=self._metadata,
                      timeout=self._timeout if timeout is None else timeout)

    def solve(self, request: RequestLike, *, timeout: float | None = None) -> pb.SolveResponse:
        """Decides a request in one call (Solve) and returns the checked SolveResponse.

        ``request`` is a SolveRequest, a dict in protobuf JSON form or the path
        of a protobuf JSON file.
        """
        return self._call(self._stub.Solve, _as_request(request), timeout)

    def submit(self, request: RequestLike, *, timeout: float | None = None) -> str:
        """Submits a request as a stored Solve job (SubmitJob); returns the job id."""
        message = pb.SubmitJobRequest(request=_as_request(request))
        return self._call(self._stub.SubmitJob, message, timeout).job_id

    def submit_minimize(self, request: RequestLike, loss: str = "linf", *,
                        timeout: float | None = None) -> str:
        """Submits a Minimize job (the arguments of :meth:`minimize`); returns the job id.

        :meth:`result` of the finished job is the checked MinimizeResponse.
        """
        message = pb.SubmitJobRequest(minimize=_minimize_request(request, loss))
        return self._call(self._stub.SubmitJob, message, timeout).job_id

    def submit_min_width(self, request: RequestLike, *, max_width: int = 0, max_error: str = "",
                         loss: str = "linf", timeout: float | None = None) -> str:
        """Submits a MinWidth job (the arguments of :meth:`min_width`); returns the job id.

        :meth:`result` of the finished job is the checked MinWidthResponse.
        """
        message = pb.SubmitJobRequest(min_width=_min_width_request(
            request, max_width=max_width, max_error=max_error, loss=loss))
        return self._call(self._stub.SubmitJob, message, timeout).job_id

    def get_job(self, job_id: str, *, include_request: bool = False,
                timeout: float | None = None) -> pb.Job:
        """The job's state, progress and (when done) result (GetJob)."""
        message = pb.GetJobRequest(job_id=job_id, include_request=include_request)
        return self._call(self._stub.GetJob, message, timeout)

    def watch(self, job_id: str) -> Iterator[pb.JobEvent]:
        """Yields the job's progress events (about twice a second while it runs).

        The last event has ``final_job`` set (``event.HasField("final_job")``):
        the finished job with its result. Watching a finished job yields that
        event at once.
        """
        call = self._stub.WatchJob(pb.WatchJobRequest(job_id=job_id), metadata=self._metadata)
        try:
            yield from call
        finally:
            call.cancel()

    def wait(self, job_id: str) -> pb.Job:
        """Follows the job to its end and returns the finished Job."""
        final = None
        for event in self.watch(job_id):
            if event.HasField("final_job"):
                final = event.final_job
        if final is None:
            final = self.get_job(job_id)
        return final

    def result(self, job_id: str, *, timeout: float | None = None):
        """The checked result of a finished job, after its kind: a SolveResponse
        (``submit``), MinimizeResponse (``submit_minimize``) or MinWidthResponse
        (``submit_min_width``).

        Raises RuntimeError when the job is not JOB_STATE_DONE (queued,
        running, cancelled or interrupted).
        """
        job = self.get_job(job_id, timeout=timeout)
        if job.state != pb.JOB_STATE_DONE:
            reason = f" ({job.state_reason})" if job.state_reason else ""
            raise RuntimeError(f"job {job_id} has no result: {pb.JobState.Name(job.state)}{reason}")
        return job_result(job)

    def cancel(self, job_id: str, *, timeout: float | None = None) -> pb.Job:
        """Cancels a queued or running job (CancelJob); returns the job."""
        return self._call(self._stub.CancelJob, pb.CancelJobRequest(job_id=job_id), timeout)

    def list_jobs(self, state: int = pb.JOB_STATE_UNSPECIFIED, *, page_size: int = 0,
                  timeout: float | None = None) -> Iterator[pb.Job]:
        """All jobs (optionally in one state), newest first, fetched page by page."""
        token = ""
        while True:
            page = self._call(self._stub.ListJobs, pb.ListJobsRequest(
                page_size=page_size, page_token=token, state=state), timeout)
            yield from page.jobs
            token = page.next_page_token
            if not token:
                return

    def verify(self, request: RequestLike, response: pb.SolveResponse, *,
               timeout: float | None = None) -> pb.VerifyResponse:
        """Runs the server's independent checker on a request and a response (Verify)."""
        message = pb.VerifyRequest(request=_as_request(request), response=response)
        return self._call(self._stub.Verify, message, timeout)

    def minimize(self, request: RequestLike, loss: str = "linf", *,
                 timeout: float | None = None) -> pb.MinimizeResponse:
        """The least training error at the request's width (Minimize), exact.

        ``loss`` is ``"linf"`` (largest |f(x_i) - y_i|), ``"l1"`` (their sum)
        or ``"l2"`` (sum of squares). The checked MinimizeResponse holds
        ``optimal_error`` (a ``"p/q"`` string; :func:`to_fraction` reads it),
        the network reaching it and the proof of optimality.
        """
        return self._call(self._stub.Minimize, _minimize_request(request, loss), timeout)

    def min_width(self, request: RequestLike, *, max_width: int = 0, max_error: str = "",
                  loss: str = "linf", timeout: float | None = None) -> pb.MinWidthResponse:
        """The smallest hidden width with a fit (MinWidth): ``width``, the fit
        there and the INFEASIBLE proof at ``width - 1``, both checked.

        ``max_error`` (an exact number string) asks for the smallest width
        with training error at most that under ``loss`` instead of zero error.
        """
        message = _min_width_request(request, max_width=max_width, max_error=max_error, loss=loss)
        return self._call(self._stub.MinWidth, message, timeout)

    def verify_minimize(self, request: pb.MinimizeRequest, response: pb.MinimizeResponse, *,
                        timeout: float | None = None) -> pb.VerifyResponse:
        """Runs the server's checker on a Minimize answer (Verify)."""
        message = pb.VerifyRequest(minimize_request=request, minimize_response=response)
        return self._call(self._stub.Verify, message, timeout)

    def verify_min_width(self, request: pb.MinWidthRequest, response: pb.MinWidthResponse, *,
                         timeout: float | None = None) -> pb.VerifyResponse:
        """Runs the server's checker on a MinWidth answer (Verify)."""
        message = pb.VerifyRequest(min_width_request=request, min_width_response=response)
        return self._call(self._stub.Verify, message, timeout)


def job_result(job: "pb.Job"):
    """A job's result field after its kind: ``result`` (Solve),
    ``minimize_result`` or ``min_width_result``."""
    if job.kind == pb.JOB_KIND_MINIMIZE:
        return job.minimize_result
    if job.kind == pb.JOB_KIND_MIN_WIDTH:
        return job.min_width_result
    return job.result


def _minimize_request(request: RequestLike, loss: str) -> "pb.MinimizeRequest":
    return pb.MinimizeRequest(request=_as_request(request), loss=_loss(loss))


def _min_width_request(request: RequestLike, *, max_width: int, max_error: str,
                       loss: str) -> "pb.MinWidthRequest":
    req = _as_request(request)
    if max_error:
        req.options.max_error = _exact_str(max_error, "max_error")
        req.options.loss = _loss(loss)
    return pb.MinWidthRequest(request=req, max_width=max_width)


def _loss(name: str) -> int:
    losses = {"linf": pb.LOSS_LINF, "l1": pb.LOSS_L1, "l2": pb.LOSS_L2}
    if name not in losses:
        raise ValueError(f"loss: choose linf, l1 or l2, not {name!r}")
    return losses[name]
