"""The process executor under back-to-back load: an execution environment must accept its next
invocation as soon as LocalStack has the previous result (AWS never rejects an invoke because the
sandbox is still wrapping up the last one).

The bug these tests pin down: runner.cjs cleared its busy flag only after the reply to its
``/response`` callback arrived, while LocalStack settles the invocation (and may send the next
``/invoke``) before it writes that reply. The runner then answered HTTP 409 ``busy`` and the invoke
failed (``runner rejected the invocation``), costing an SQS message a receive.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError

import boto3
import pytest
from botocore.config import Config
from test_lambda_process import ROLE, RUNTIME, _post_invoke, _runner_path, make_zip, wait_active

CODE = make_zip({"index.js": "let n = 0;\nexports.handler = async (e) => ({ pid: process.pid, n: ++n, i: e.i });\n"})


def test_runner_accepts_the_next_invoke_before_its_result_is_acknowledged(tmp_path):
    """A stub LocalStack that does what LocalStack can do: on a /response it sends the next /invoke
    BEFORE it answers the callback. 40 chained invocations must all be accepted (old runner: 409 on
    the first)."""
    n = 40
    statuses: list[int] = []
    results: dict[str, bytes] = {}
    done = threading.Event()
    port_box: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("/ready"):
                port_box.append(json.loads(body)["port"])
            elif self.path.endswith("/response") or self.path.endswith("/error"):
                req = self.path.split("/")[-2]
                results[req] = body
                i = int(req.removeprefix("req-"))
                if i + 1 < n:
                    try:
                        statuses.append(_post_invoke(port_box[0], f"req-{i + 1}", {"i": i + 1}))
                    except HTTPError as e:
                        statuses.append(e.code)
                        done.set()
                else:
                    done.set()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    (tmp_path / "index.js").write_text("let n = 0;\nexports.handler = async (e) => ({ n: ++n, i: e.i });\n")
    env = {
        "PATH": os.environ["PATH"],
        "LOCALSTACK_RUNTIME_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}/_localstack_lambda/rid1",
        "LOCALSTACK_RUNTIME_ID": "rid1",
        "_HANDLER": "index.handler",
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "LOCALSTACK_INTEROP_PORT": "0",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "3",
    }
    proc = subprocess.Popen(["node", str(_runner_path())], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not port_box and time.monotonic() < deadline:
            time.sleep(0.02)
        assert port_box, "runner never reported ready"
        assert _post_invoke(port_box[0], "req-0", {"i": 0}) == 200
        assert done.wait(15), f"chain stalled after {len(results)} results"
        assert statuses == [200] * (n - 1), f"runner rejected chained invokes: {statuses}"
        assert [json.loads(results[f"req-{i}"]) for i in range(n)] == [{"n": i + 1, "i": i} for i in range(n)]
    finally:
        proc.kill()
        proc.wait()
        server.shutdown()


@pytest.fixture(scope="module")
def lam_no_retry(endpoint):
    """A client that does not retry: a failed invoke must show, not be hidden by a retry."""
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0, "mode": "standard"}, read_timeout=60, max_pool_connections=20),
    )


def test_back_to_back_and_concurrent_invokes_never_fail(lam_no_retry, unique_name, wait_until):
    """Through LocalStack: 150 sequential invokes of one function (one environment, every invoke
    right after the last), then 6 threads x 40 on a second one (environments handed from one
    request to the next). Zero failures."""
    lam = lam_no_retry
    names = [f"{unique_name}-seq", f"{unique_name}-par"]
    for name in names:
        lam.create_function(
            FunctionName=name, Runtime=RUNTIME, Handler="index.handler", Role=ROLE, Code={"ZipFile": CODE}, Timeout=5
        )
    try:
        wait_active(lam, names, wait_until)
        failures: list[str] = []

        def call(name: str, i: int):
            try:
                resp = lam.invoke(FunctionName=name, Payload=json.dumps({"i": i}).encode())
                payload = json.loads(resp["Payload"].read())
                if resp.get("FunctionError"):
                    failures.append(f"{name} #{i}: {payload}")
                return payload
            except Exception as e:  # noqa: BLE001 - every failure counts
                failures.append(f"{name} #{i}: {e!r}")
                return None

        seq = [call(names[0], i) for i in range(150)]
        assert not failures, failures[:5]
        assert len({p["pid"] for p in seq}) == 1, "sequential invokes did not stay in one environment"
        assert [p["n"] for p in seq] == list(range(1, 151))

        with ThreadPoolExecutor(6) as pool:
            par = list(pool.map(lambda i: call(names[1], i), range(240)))
        assert not failures, f"{len(failures)} of 240 concurrent invokes failed: {failures[:5]}"
        assert sorted(p["i"] for p in par) == list(range(240))
    finally:
        for name in names:
            lam.delete_function(FunctionName=name)
