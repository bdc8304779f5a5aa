"""Acceptance tests of the "process" Lambda runtime executor (spec §11), against a live LocalStack
started by `bash scripts/localstack.sh start` (LAMBDA_RUNTIME_EXECUTOR=process), plus tests of the
Node.js runner on its own (no LocalStack).

    bash scripts/localstack.sh start
    .venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests/test_lambda_process.py -q
    bash scripts/localstack.sh stop
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
RUNTIME = "nodejs22.x"
RUN_ID = uuid.uuid4().hex[:6]

# ---------------------------------------------------------------------------------------------
# function code

INDEX_JS = r"""
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
let count = 0; // in-memory state: survives warm invokes, not a re-init

exports.asyncObj = async (event, context) => ({ ok: true, event, count: ++count, pid: process.pid });
exports.syncValue = (event) => 42; // RIC ignores the return value of a non-async handler: null
exports.cb = (event, context, callback) => callback(null, { via: 'callback', event });
exports.cbWaits = (event, context, callback) => { setTimeout(() => {}, 800); callback(null, 'waited'); };
exports.cbNoWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => {}, 800);
  callback(null, 'nowait');
};
exports.throwTypeError = async () => { throw new TypeError('x'); };
exports.throwString = async () => { throw 'plain string'; };
exports.spin = async (event) => {
  count++;
  const marker = path.join(os.tmpdir(), 'marker');
  if (event.mode === 'spin') { fs.writeFileSync(marker, 'x'); while (true) {} }
  if (event.mode === 'hang') { fs.writeFileSync(marker, 'x'); await new Promise(() => setTimeout(() => {}, 60000)); }
  return { count, marker: fs.existsSync(marker), tmp: os.tmpdir(), pid: process.pid };
};
exports.exit = async (event) => {
  if (event.exit !== undefined) process.exit(event.exit);
  return { pid: process.pid, count: ++count };
};
exports.env = async (event, context) => ({
  env: { ...process.env },
  context: {
    functionName: context.functionName, functionVersion: context.functionVersion,
    memoryLimitInMB: context.memoryLimitInMB, invokedFunctionArn: context.invokedFunctionArn,
    awsRequestId: context.awsRequestId, logGroupName: context.logGroupName,
    logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(),
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  },
  cwd: process.cwd(),
});
exports.logs = async (event) => { console.log('log-line', event.tag); console.error('err-line', event.tag); return 'logged'; };
exports.sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms || 1000)); return { pid: process.pid }; };
exports.uncaught = async (event) => {
  if (event.boom) { setTimeout(() => { throw new RangeError('async boom'); }, 10); await new Promise((r) => setTimeout(r, 1000)); }
  return { count: ++count };
};
exports.rejection = async (event) => {
  if (event.reject) { Promise.reject(new Error('nobody listens')); await new Promise((r) => setTimeout(r, 500)); }
  return { count: ++count };
};
exports.neverSettles = async () => new Promise(() => {}); // loop drains: Runtime.NodeJsExit
exports.sdk = async () => {
  const { SQSClient, ListQueuesCommand } = require('@aws-sdk/client-sqs');
  const out = await new SQSClient({}).send(new ListQueuesCommand({}));
  return { status: out.$metadata.httpStatusCode };
};
exports.custom = async (event) => {
  class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
  if (event.fail) throw new MyError('custom failure');
  return { ok: true, input: event };
};
exports.asyncWithCallbackParam = async (event, context, callback) => 'never reached on nodejs24.x';
exports.nested = { deep: { fn: async () => 'nested' } };
exports.notAFunction = 42;
"""

ESM_MJS = r"""
import { SQSClient } from '@aws-sdk/client-sqs'; // bare import from NODE_PATH (the "runtime's" SDK)
import os from 'node:os';
export const handler = async (event) => ({ esm: true, sdk: typeof SQSClient, url: import.meta.url.startsWith('file:'), tmp: os.tmpdir() });
"""

TYPE_MODULE_APP = "export const handler = async () => ({ typeModule: true });\n"

OBS_JS = r"""
// forwards what it receives to the SQS queue OBS_URL, so tests can see every delivery
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({});
const note = (o) => sqs.send(new SendMessageCommand({ QueueUrl: process.env.OBS_URL, MessageBody: JSON.stringify(o) }));

exports.partial = async (event) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    await note({ body: r.body, id: r.messageId, receiveCount: Number(r.attributes.ApproximateReceiveCount) });
    if (r.body.startsWith('fail')) batchItemFailures.push({ itemIdentifier: r.messageId });
  }
  return { batchItemFailures };
};
exports.throws = async (event) => {
  for (const r of event.Records) await note({ body: r.body, id: r.messageId, receiveCount: Number(r.attributes.ApproximateReceiveCount) });
  throw new Error('the whole batch fails');
};
exports.observe = async (event) => { await note({ event }); return 'seen'; };
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buf.getvalue()


CODE = make_zip(
    {
        "index.js": INDEX_JS,
        "esm.mjs": ESM_MJS,
        "mod/package.json": '{"type": "module"}\n',
        "mod/app.js": TYPE_MODULE_APP,
        "initthrow.js": "throw new Error('init boom');\n",
        "syntax.js": "exports.handler = async () => { return ;; }}\n",
        "obs.js": OBS_JS,
    }
)

# name suffix -> (handler, timeout, extra environment)
FUNCTIONS = {
    "async": ("index.asyncObj", 3, {}),
    "sync": ("index.syncValue", 3, {}),
    "cb": ("index.cb", 3, {}),
    "cbwaits": ("index.cbWaits", 5, {}),
    "cbnowait": ("index.cbNoWait", 5, {}),
    "throw": ("index.throwTypeError", 3, {}),
    "throwstr": ("index.throwString", 3, {}),
    "nomodule": ("nope.handler", 3, {}),
    "noexport": ("index.missing", 3, {}),
    "notfn": ("index.notAFunction", 3, {}),
    "initthrow": ("initthrow.handler", 3, {}),
    "syntax": ("syntax.handler", 3, {}),
    "spin": ("index.spin", 1, {}),
    "exit": ("index.exit", 3, {}),
    "env": ("index.env", 7, {"FOO": "bar", "MULTI": "a b=c"}),
    "logs": ("index.logs", 3, {}),
    "sleep": ("index.sleep", 5, {}),
    "uncaught": ("index.uncaught", 5, {}),
    "rejection": ("index.rejection", 5, {}),
    "never": ("index.neverSettles", 3, {}),
    "sdk": ("index.sdk", 10, {}),
    "esm": ("esm.handler", 10, {}),
    "typemodule": ("mod/app.handler", 3, {}),
    "nested": ("index.nested.deep.fn", 3, {}),
    "custom": ("index.custom", 3, {}),
    "cbwarn": ("index.cb", 3, {}),
    "async24": ("index.asyncObj", 3, {}, "nodejs24.x"),
    "cb24": ("index.cb", 3, {}, "nodejs24.x"),
    "asynccb24": ("index.asyncWithCallbackParam", 3, {}, "nodejs24.x"),
}


def fn_name(key: str) -> str:
    return f"cmp-lp-{RUN_ID}-{key}"


def wait_active(lam, names, wait_until, timeout=60):
    def all_active():
        states = {n: lam.get_function_configuration(FunctionName=n)["State"] for n in names}
        failed = {n: s for n, s in states.items() if s == "Failed"}
        assert not failed, f"functions failed: {failed}"
        return all(s == "Active" for s in states.values())

    wait_until(all_active, timeout=timeout, interval=0.1, message=f"{len(names)} function(s) Active")


def create_function(lam, name, handler, timeout=3, env=None, code=CODE, runtime=RUNTIME):
    kwargs = {}
    if env:
        kwargs["Environment"] = {"Variables": env}
    return lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Handler=handler,
        Role=ROLE,
        Code={"ZipFile": code},
        Timeout=timeout,
        MemorySize=256,
        **kwargs,
    )


@pytest.fixture(scope="module")
def lam(aws_client):
    return aws_client("lambda")


@pytest.fixture(scope="module")
def functions(lam, wait_until):
    """All invoke-matrix functions, created at once; deleted afterwards."""
    for key, (handler, timeout, env, *runtime) in FUNCTIONS.items():
        create_function(lam, fn_name(key), handler, timeout, env, runtime=runtime[0] if runtime else RUNTIME)
    names = [fn_name(k) for k in FUNCTIONS]
    wait_active(lam, names, wait_until)
    yield {k: fn_name(k) for k in FUNCTIONS}
    for n in names:
        try:
            lam.delete_function(FunctionName=n)
        except Exception:  # noqa: BLE001
            pass


def invoke(lam, name, event=None, **kwargs):
    t0 = time.monotonic()
    resp = lam.invoke(
        FunctionName=name, Payload=json.dumps(event if event is not None else {}).encode(), **kwargs
    )
    elapsed = time.monotonic() - t0
    raw = resp["Payload"].read()
    payload = json.loads(raw) if raw else None
    return resp, payload, elapsed


def ls_log_file() -> Path | None:
    p = Path(os.environ.get("LOCALSTACK_LOG_FILE", "") or REPO / ".localstack" / "localstack.log")
    return p if p.is_file() else None


# ---------------------------------------------------------------------------------------------
# 1. plugin discovery


def test_plugin_is_discovered_by_localstack():
    from localstack.services.lambda_.invocation.runtime_executor import EXECUTOR_PLUGIN_MANAGER

    assert "process" in EXECUTOR_PLUGIN_MANAGER.list_names()
    cls = EXECUTOR_PLUGIN_MANAGER.load("process").load()
    assert cls.__name__ == "ProcessRuntimeExecutor"
    assert EXECUTOR_PLUGIN_MANAGER.load("process").load() is cls  # load() is idempotent


def test_localstack_uses_the_process_executor(functions, lam):
    invoke(lam, functions["async"])  # make sure the Lambda service is up
    log = ls_log_file()
    if log is None:
        pytest.skip("LocalStack log not found (endpoint/docker mode); set LOCALSTACK_LOG_FILE")
    text = log.read_text(errors="replace")
    assert 'Falling back to "docker"' not in text
    assert "process Lambda runtime executor:" in text  # our validate_environment() ran
    assert "Docker not available" not in text


# ---------------------------------------------------------------------------------------------
# 2. CreateFunction


def test_create_function_reaches_active_and_unzips_code(functions, lam):
    cfg = lam.get_function_configuration(FunctionName=functions["async"])
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    _, payload, _ = invoke(lam, functions["env"])
    task_root = Path(payload["env"]["LAMBDA_TASK_ROOT"])
    assert task_root.name == "code" and (task_root / "index.js").is_file()
    assert payload["cwd"] == str(task_root)
    # outside the repo: Node must not find the repo's node_modules by walking up from the code
    assert not str(task_root.resolve()).startswith(str(REPO) + os.sep)


def test_non_node_runtime_is_rejected(lam, unique_name, wait_until):
    code = make_zip({"app.py": "def handler(e, c): return 1\n"})
    create_function(lam, unique_name, "app.handler", runtime="python3.12", code=code)
    try:
        cfg = wait_until(
            lambda: (
                (c := lam.get_function_configuration(FunctionName=unique_name))["State"] != "Pending" and c
            ),
            timeout=30,
            message="state change",
        )
        assert cfg["State"] == "Failed"
        assert "nodejs" in cfg.get("StateReason", "")
    finally:
        try:  # LocalStack answers 500 "Unable to find version manager" for a Failed function, but deletes it
            lam.delete_function(FunctionName=unique_name)
        except Exception:  # noqa: BLE001
            pass
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName=unique_name)


# ---------------------------------------------------------------------------------------------
# 3. invoke matrix


def test_async_handler_returns_object(functions, lam):
    resp, payload, _ = invoke(lam, functions["async"], {"a": 1})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert payload["ok"] is True and payload["event"] == {"a": 1}


def test_warm_invokes_reuse_the_process(functions, lam):
    _, first, _ = invoke(lam, functions["async"])
    _, second, _ = invoke(lam, functions["async"])
    assert second["pid"] == first["pid"]
    assert second["count"] == first["count"] + 1


def test_sync_handler_return_value_is_ignored(functions, lam):
    resp, payload, _ = invoke(lam, functions["sync"])
    assert "FunctionError" not in resp
    assert payload is None


def test_callback_result(functions, lam):
    resp, payload, _ = invoke(lam, functions["cb"], {"b": 2})
    assert "FunctionError" not in resp
    assert payload == {"via": "callback", "event": {"b": 2}}


def test_callback_waits_for_empty_event_loop(functions, lam):
    invoke(lam, functions["cbwaits"])  # cold start out of the measurement
    invoke(lam, functions["cbnowait"])
    _, waited, t_wait = invoke(lam, functions["cbwaits"])
    _, nowait, t_nowait = invoke(lam, functions["cbnowait"])
    assert waited == "waited" and nowait == "nowait"
    assert t_wait >= 0.75, f"callback returned before the 800 ms timer drained ({t_wait:.2f}s)"
    assert t_nowait < 0.6, f"callbackWaitsForEmptyEventLoop=false still waited ({t_nowait:.2f}s)"


def test_callback_handler_warning_on_nodejs22(functions, lam):
    resp, payload, _ = invoke(lam, functions["cbwarn"], {}, LogType="Tail")
    assert payload == {"via": "callback", "event": {}}
    assert (
        "plans to remove support for callback-based function handlers"
        in base64.b64decode(resp["LogResult"]).decode()
    )


@pytest.mark.parametrize("key", ["cb24", "asynccb24"])
def test_callback_handlers_are_refused_on_nodejs24(functions, lam, key):
    resp, payload, _ = invoke(lam, functions[key])
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.CallbackHandlerDeprecated"


def test_async_handler_on_nodejs24(functions, lam):
    resp, payload, _ = invoke(lam, functions["async24"], {"v": 24})
    assert "FunctionError" not in resp and payload["event"] == {"v": 24}


def test_thrown_error_shape(functions, lam):
    resp, payload, _ = invoke(lam, functions["throw"])
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "TypeError"
    assert payload["errorMessage"] == "x"
    assert isinstance(payload["trace"], list) and payload["trace"][0].startswith("TypeError: x")


def test_thrown_non_error_shape(functions, lam):
    resp, payload, _ = invoke(lam, functions["throwstr"])
    assert resp["FunctionError"] == "Unhandled"
    assert payload == {"errorType": "string", "errorMessage": "plain string", "trace": []}


@pytest.mark.parametrize(
    "key, error_type, message_part",
    [
        ("nomodule", "Runtime.ImportModuleError", "Cannot find module 'nope'"),
        ("noexport", "Runtime.HandlerNotFound", "index.missing is undefined or not exported"),
        ("notfn", "Runtime.HandlerNotFound", "index.notAFunction is not a function"),
        ("initthrow", "Error", "init boom"),
        ("syntax", "Runtime.UserCodeSyntaxError", "SyntaxError"),
    ],
)
def test_init_errors(functions, lam, key, error_type, message_part):
    for _ in range(2):  # the environment is not reused after an init error: same result again
        resp, payload, _ = invoke(lam, functions[key])
        assert resp["FunctionError"] == "Unhandled"
        assert payload["errorType"] == error_type
        assert message_part in payload["errorMessage"]


def test_timeout_of_a_blocked_event_loop_then_fresh_state(functions, lam):
    _, before, _ = invoke(lam, functions["spin"], {"mode": "ok"})
    resp, payload, elapsed = invoke(lam, functions["spin"], {"mode": "spin"})
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert 1.0 <= elapsed < 4.0, elapsed
    resp, after, _ = invoke(lam, functions["spin"], {"mode": "ok"})
    assert "FunctionError" not in resp
    assert after["pid"] != before["pid"]  # a new process ...
    assert after["count"] == 1  # ... with fresh in-memory state
    assert after["marker"] is True and after["tmp"] == before["tmp"]  # ... and the same /tmp


def test_timeout_of_a_pending_promise_is_reported_by_the_runner(functions, lam):
    _, before, _ = invoke(lam, functions["spin"], {"mode": "ok"})
    resp, payload, elapsed = invoke(lam, functions["spin"], {"mode": "hang"}, LogType="Tail")
    assert payload["errorType"] == "Sandbox.Timedout"
    assert 1.0 <= elapsed < 2.0, elapsed  # the runner's own timer, before the executor's hard limit
    logs = base64.b64decode(resp["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in logs and "REPORT RequestId" in logs
    _, after, _ = invoke(lam, functions["spin"], {"mode": "ok"})
    assert after["pid"] != before["pid"] and after["count"] == 1


def test_process_exit_is_runtime_exit_error_and_recovers(functions, lam):
    _, before, _ = invoke(lam, functions["exit"])
    resp, payload, _ = invoke(lam, functions["exit"], {"exit": 2}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Error: Runtime exited with error: exit status 2")
    assert "END RequestId" in base64.b64decode(resp["LogResult"]).decode()
    resp, after, _ = invoke(lam, functions["exit"])
    assert "FunctionError" not in resp
    assert after["pid"] != before["pid"] and after["count"] == 1


def test_process_exit_zero(functions, lam):
    resp, payload, _ = invoke(lam, functions["exit"], {"exit": 0})
    assert payload["errorType"] == "Runtime.ExitError"
    assert "Runtime exited without providing a reason" in payload["errorMessage"]


def test_uncaught_exception_during_invoke(functions, lam):
    resp, payload, _ = invoke(lam, functions["uncaught"], {"boom": True})
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "RangeError" and payload["errorMessage"] == "async boom"
    resp, after, _ = invoke(lam, functions["uncaught"])
    assert "FunctionError" not in resp and after["count"] == 1  # restarted


def test_unhandled_rejection(functions, lam):
    resp, payload, _ = invoke(lam, functions["rejection"], {"reject": True})
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert "nobody listens" in payload["errorMessage"]
    resp, after, _ = invoke(lam, functions["rejection"])
    assert "FunctionError" not in resp and after["count"] == 1


def test_async_handler_whose_promise_never_settles(functions, lam):
    resp, payload, elapsed = invoke(lam, functions["never"])
    assert payload["errorType"] == "Runtime.NodeJsExit"
    assert elapsed < 2.5  # detected when the event loop drained, not by the 3 s timeout


def test_esm_mjs_handler_imports_sdk_from_node_path(functions, lam):
    resp, payload, _ = invoke(lam, functions["esm"])
    assert "FunctionError" not in resp, payload
    assert payload["esm"] is True and payload["url"] is True
    assert payload["sdk"] == "function"


def test_esm_import_of_a_missing_package(lam, unique_name, wait_until):
    code = make_zip(
        {"index.mjs": "import x from 'cmp-no-such-package';\nexport const handler = async () => x;\n"}
    )
    create_function(lam, unique_name, "index.handler", code=code)
    try:
        wait_active(lam, [unique_name], wait_until)
        resp, payload, _ = invoke(lam, unique_name)
        # RIC maps only CommonJS's MODULE_NOT_FOUND to Runtime.ImportModuleError; ESM's stays an Error
        assert payload["errorType"] == "Error"
        assert "Cannot find package 'cmp-no-such-package'" in payload["errorMessage"]
    finally:
        lam.delete_function(FunctionName=unique_name)


def test_type_module_js_handler_in_subdirectory(functions, lam):
    resp, payload, _ = invoke(lam, functions["typemodule"])
    assert "FunctionError" not in resp, payload
    assert payload == {"typeModule": True}


def test_nested_handler_path(functions, lam):
    _, payload, _ = invoke(lam, functions["nested"])
    assert payload == "nested"


def test_commonjs_handler_calls_localstack_with_the_sdk(functions, lam):
    resp, payload, _ = invoke(lam, functions["sdk"])
    assert "FunctionError" not in resp, payload
    assert payload == {"status": 200}


def test_log_tail_and_cloudwatch(functions, lam, aws_client, wait_until):
    tag = uuid.uuid4().hex
    resp, payload, _ = invoke(lam, functions["logs"], {"tag": tag}, LogType="Tail")
    assert payload == "logged"
    logs = base64.b64decode(resp["LogResult"]).decode()
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in logs
    assert f"END RequestId: {request_id}" in logs
    assert f"REPORT RequestId: {request_id}\tDuration:" in logs
    assert f"\t{request_id}\tINFO\tlog-line {tag}" in logs
    assert f"\t{request_id}\tERROR\terr-line {tag}" in logs
    cw = aws_client("logs")

    def tagged_events():
        # LocalStack stores the logs after the invocation returns: the group may not exist yet
        try:
            found = cw.filter_log_events(logGroupName=f"/aws/lambda/{functions['logs']}").get("events", [])
        except cw.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in found if tag in e["message"]]

    events = wait_until(tagged_events, timeout=15, message="log events in CloudWatch")
    assert any(f"log-line {tag}" in m for m in events)


def test_environment_and_context(functions, lam):
    _, payload, _ = invoke(lam, functions["env"])
    env, ctx = payload["env"], payload["context"]
    name = functions["env"]
    assert env["FOO"] == "bar" and env["MULTI"] == "a b=c"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}"
    assert env["_HANDLER"] == "index.env"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["LOCALSTACK_HOSTNAME"] == "127.0.0.1"
    assert env["TZ"] == ":UTC"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert not [k for k in env if k.startswith("LOCALSTACK_") and k != "LOCALSTACK_HOSTNAME"]
    assert (
        "LAMBDA_RUNTIME_EXECUTOR" not in env and "GATEWAY_LISTEN" not in env
    )  # LocalStack's own env stays out
    assert env["TMPDIR"].endswith("/tmp") and Path(env["TMPDIR"]).is_dir()
    assert ctx["functionName"] == name and ctx["functionVersion"] == "$LATEST"
    assert ctx["memoryLimitInMB"] == "256"
    assert ctx["invokedFunctionArn"].endswith(f":function:{name}")
    assert len(ctx["awsRequestId"]) == 36
    assert ctx["logGroupName"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in ctx["logStreamName"]
    assert 6000 < ctx["remaining"] <= 7000
    assert ctx["callbackWaitsForEmptyEventLoop"] is True


def test_function_configuration_update_is_picked_up(lam, unique_name, wait_until):
    create_function(lam, unique_name, "index.env", env={"FOO": "one"})
    try:
        wait_active(lam, [unique_name], wait_until)
        assert invoke(lam, unique_name)[1]["env"]["FOO"] == "one"
        lam.update_function_configuration(FunctionName=unique_name, Environment={"Variables": {"FOO": "two"}})
        wait_until(
            lambda: (
                lam.get_function_configuration(FunctionName=unique_name)["LastUpdateStatus"] == "Successful"
            ),
            message="update",
        )
        assert invoke(lam, unique_name)[1]["env"]["FOO"] == "two"
        lam.update_function_code(
            FunctionName=unique_name, ZipFile=make_zip({"index.js": "exports.env = async () => 'v2';\n"})
        )
        wait_until(
            lambda: (
                lam.get_function_configuration(FunctionName=unique_name)["LastUpdateStatus"] == "Successful"
            ),
            message="code update",
        )
        assert invoke(lam, unique_name)[1] == "v2"
    finally:
        lam.delete_function(FunctionName=unique_name)


def test_layers_are_on_node_path(lam, unique_name, wait_until):
    layer = make_zip(
        {
            "nodejs/node_modules/cmp-layer-lib/index.js": "module.exports = { from: 'old layer' };\n",
            "nodejs/node_modules/cmp-only-old/index.js": "module.exports = 'only in the first layer';\n",
        }
    )
    newer = make_zip(
        {"nodejs/node22/node_modules/cmp-layer-lib/index.js": "module.exports = { from: 'new layer' };\n"}
    )
    arn1 = lam.publish_layer_version(LayerName=f"{unique_name}-1", Content={"ZipFile": layer})[
        "LayerVersionArn"
    ]
    arn2 = lam.publish_layer_version(LayerName=f"{unique_name}-2", Content={"ZipFile": newer})[
        "LayerVersionArn"
    ]
    code = make_zip(
        {
            "index.js": "exports.handler = async () => [require('cmp-layer-lib').from, require('cmp-only-old')];\n"
        }
    )
    lam.create_function(
        FunctionName=unique_name,
        Runtime=RUNTIME,
        Handler="index.handler",
        Role=ROLE,
        Code={"ZipFile": code},
        Layers=[arn1, arn2],
    )
    try:
        wait_active(lam, [unique_name], wait_until)
        resp, payload, _ = invoke(lam, unique_name)
        assert "FunctionError" not in resp, payload
        assert payload == ["new layer", "only in the first layer"]  # later layers win, node<major> first
    finally:
        lam.delete_function(FunctionName=unique_name)


def _pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_versions_aliases_and_no_processes_left_after_delete(lam, unique_name, wait_until):
    create_function(lam, unique_name, "index.asyncObj")
    try:
        wait_active(lam, [unique_name], wait_until)
        version = lam.publish_version(FunctionName=unique_name)["Version"]
        lam.create_alias(FunctionName=unique_name, Name="live", FunctionVersion=version)
        wait_until(
            lambda: (
                lam.get_function_configuration(FunctionName=unique_name, Qualifier=version)["State"]
                == "Active"
            ),
            message="version active",
        )
        pids = set()
        for qualifier in (None, version, "live"):
            kwargs = {"Qualifier": qualifier} if qualifier else {}
            resp, payload, _ = invoke(lam, unique_name, {"q": qualifier}, **kwargs)
            assert "FunctionError" not in resp, payload
            assert resp["ExecutedVersion"] == (qualifier and version or "$LATEST")
            pids.add(payload["pid"])
        assert len(pids) == 2  # $LATEST and version 1 run in separate environments; the alias reuses 1's
    finally:
        lam.delete_function(FunctionName=unique_name)
    wait_until(lambda: not any(_pid_alive(p) for p in pids), timeout=10, message="runner processes to exit")


# ---------------------------------------------------------------------------------------------
# 4. concurrency


def _node_children_of_localstack() -> list[int]:
    pid_file = REPO / ".localstack" / "localstack.pid"
    if not pid_file.is_file():
        return []
    out = subprocess.run(
        ["pgrep", "-P", pid_file.read_text().strip(), "-f", "runner.cjs"], capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


def test_parallel_invokes_run_in_parallel_processes(functions, lam):
    with ThreadPoolExecutor(5) as pool:
        t0 = time.monotonic()
        results = list(pool.map(lambda _: invoke(lam, functions["sleep"], {"ms": 1000}), range(5)))
        wall = time.monotonic() - t0
    pids = {payload["pid"] for resp, payload, _ in results if "FunctionError" not in resp}
    assert len(pids) == 5, results
    assert wall < 4.0, f"5 x 1 s invokes took {wall:.1f}s: not parallel"
    children = _node_children_of_localstack()
    if children:  # host mode started by scripts/localstack.sh: the processes are LocalStack's children
        assert pids <= set(children)


# ---------------------------------------------------------------------------------------------
# 5.-7. integrations: SQS event source mapping, Step Functions, EventBridge


@pytest.fixture
def obs_queue(aws_client):
    """A queue the obs.* handlers write every delivery to; yields (url, read_all)."""
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName=f"cmp-obs-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    seen: list[dict] = []

    def read_all() -> list[dict]:
        while True:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not msgs:
                return list(seen)
            for m in msgs:
                seen.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    yield url, read_all
    sqs.delete_queue(QueueUrl=url)


def _queue_depth(sqs, url) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def sqs_esm(aws_client, lam, obs_queue, unique_name, wait_until):
    """Factory: (handler, bodies, report_failures) -> source queue url, with an ESM to a new function."""
    sqs = aws_client("sqs")
    created: list[tuple[str, str, str]] = []

    def make(handler: str, bodies: list[str], report_failures: bool):
        name = f"{unique_name}-{len(created)}"
        url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        create_function(lam, name, handler, timeout=10, env={"OBS_URL": obs_queue[0]})
        wait_active(lam, [name], wait_until)
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
        )
        esm = lam.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName=name,
            BatchSize=10,
            FunctionResponseTypes=["ReportBatchItemFailures"] if report_failures else [],
        )
        created.append((name, url, esm["UUID"]))
        return url

    yield make
    for name, url, esm_uuid in created:
        for call, kwargs in (
            (lam.delete_event_source_mapping, {"UUID": esm_uuid}),
            (lam.delete_function, {"FunctionName": name}),
            (sqs.delete_queue, {"QueueUrl": url}),
        ):
            try:
                call(**kwargs)
            except Exception:  # noqa: BLE001
                pass


def test_sqs_esm_report_batch_item_failures_redelivers_only_the_failed_message(
    sqs_esm, obs_queue, aws_client, wait_until
):
    _, read_all = obs_queue
    url = sqs_esm("obs.partial", ["ok-1", "fail-1", "ok-2"], report_failures=True)

    def failed_twice():
        seen = read_all()
        return seen if any(s["body"] == "fail-1" and s["receiveCount"] >= 2 for s in seen) else None

    seen = wait_until(failed_twice, timeout=45, interval=0.5, message="fail-1 delivered twice")
    bodies = [s["body"] for s in seen]
    assert bodies.count("ok-1") == 1 and bodies.count("ok-2") == 1, bodies
    assert _queue_depth(aws_client("sqs"), url) == 1  # only the failed message is left


def test_sqs_esm_throwing_handler_leaves_the_whole_batch(sqs_esm, obs_queue, aws_client, wait_until):
    _, read_all = obs_queue
    url = sqs_esm("obs.throws", ["a", "b"], report_failures=True)

    def both_twice():
        seen = read_all()
        ok = all(any(s["body"] == b and s["receiveCount"] >= 2 for s in seen) for b in ("a", "b"))
        return seen if ok else None

    wait_until(both_twice, timeout=45, interval=0.5, message="a and b delivered twice")
    assert _queue_depth(aws_client("sqs"), url) == 2


def test_step_functions_lambda_invoke_catches_custom_error(functions, aws_client, unique_name, wait_until):
    sfn = aws_client("stepfunctions")
    fn_arn = aws_client("lambda").get_function_configuration(FunctionName=functions["custom"])["FunctionArn"]
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn_arn, "Payload.$": "$"},
                "ResultSelector": {"result.$": "$.Payload"},
                "Catch": [{"ErrorEquals": ["MyError"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    sm_arn = sfn.create_state_machine(
        name=unique_name, definition=json.dumps(definition), roleArn="arn:aws:iam::000000000000:role/sfn-role"
    )["stateMachineArn"]
    try:

        def run(inp):
            ex = sfn.start_execution(stateMachineArn=sm_arn, input=json.dumps(inp))["executionArn"]
            return wait_until(
                lambda: (d := sfn.describe_execution(executionArn=ex))["status"] != "RUNNING" and d,
                timeout=30,
                message="execution end",
            )

        ok = run({"fail": False})
        assert ok["status"] == "SUCCEEDED"
        assert json.loads(ok["output"])["result"] == {"ok": True, "input": {"fail": False}}

        caught = run({"fail": True})
        assert caught["status"] == "SUCCEEDED"
        error = json.loads(caught["output"])["error"]
        assert error["Error"] == "MyError"
        cause = json.loads(error["Cause"])
        assert cause["errorType"] == "MyError" and cause["errorMessage"] == "custom failure"
    finally:
        sfn.delete_state_machine(stateMachineArn=sm_arn)


def test_eventbridge_rule_invokes_lambda(aws_client, lam, obs_queue, unique_name, wait_until):
    url, read_all = obs_queue
    events = aws_client("events")
    create_function(lam, unique_name, "obs.observe", timeout=10, env={"OBS_URL": url})
    try:
        wait_active(lam, [unique_name], wait_until)
        fn_arn = lam.get_function_configuration(FunctionName=unique_name)["FunctionArn"]
        rule_arn = events.put_rule(Name=unique_name, EventPattern=json.dumps({"source": ["cmp.test"]}))[
            "RuleArn"
        ]
        lam.add_permission(
            FunctionName=unique_name,
            StatementId="events",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
        events.put_targets(Rule=unique_name, Targets=[{"Id": "fn", "Arn": fn_arn}])
        marker = uuid.uuid4().hex
        out = events.put_events(
            Entries=[{"Source": "cmp.test", "DetailType": "t", "Detail": json.dumps({"marker": marker})}]
        )
        assert out["FailedEntryCount"] == 0
        seen = wait_until(
            lambda: [s for s in read_all() if s.get("event", {}).get("detail", {}).get("marker") == marker],
            timeout=30,
            message="the event to reach the function",
        )
        assert seen[0]["event"]["source"] == "cmp.test"
    finally:
        try:
            events.remove_targets(Rule=unique_name, Ids=["fn"])
            events.delete_rule(Name=unique_name)
        except Exception:  # noqa: BLE001
            pass
        lam.delete_function(FunctionName=unique_name)


# ---------------------------------------------------------------------------------------------
# CloudFormation: a function from a zip in S3 plus an SQS event source mapping


def test_cloudformation_lambda_from_s3_with_sqs_esm(aws_client, obs_queue, unique_name, wait_until):
    url, read_all = obs_queue
    s3, cfn, sqs = aws_client("s3"), aws_client("cloudformation"), aws_client("sqs")
    bucket = unique_name.lower()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="code.zip", Body=CODE)
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": RUNTIME,
                    "Handler": "obs.observe",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"S3Bucket": bucket, "S3Key": "code.zip"},
                    "Timeout": 10,
                    "Environment": {"Variables": {"OBS_URL": url}},
                },
            },
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "FunctionName": {"Ref": "Fn"},
                    "BatchSize": 5,
                },
            },
        },
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
    }
    cfn.create_stack(
        StackName=unique_name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
    )
    try:
        stack = wait_until(
            lambda: (
                (s := cfn.describe_stacks(StackName=unique_name)["Stacks"][0])["StackStatus"].endswith(
                    ("_COMPLETE", "_FAILED")
                )
                and s
            ),
            timeout=90,
            interval=0.5,
            message="stack create",
        )
        reasons = [
            f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
            for e in cfn.describe_stack_events(StackName=unique_name)["StackEvents"]
            if e["ResourceStatus"].endswith("FAILED")
        ]
        assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
        queue_url = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["QueueUrl"]
        marker = uuid.uuid4().hex
        sqs.send_message(QueueUrl=queue_url, MessageBody=marker)
        seen = wait_until(
            lambda: [
                s
                for s in read_all()
                if any(r.get("body") == marker for r in s.get("event", {}).get("Records", []))
            ],
            timeout=30,
            message="the message to reach the function through the mapping",
        )
        assert seen
    finally:
        cfn.delete_stack(StackName=unique_name)

        def deleted():
            try:
                return (
                    cfn.describe_stacks(StackName=unique_name)["Stacks"][0]["StackStatus"]
                    == "DELETE_COMPLETE"
                )
            except cfn.exceptions.ClientError:  # "Stack with id ... does not exist"
                return True

        wait_until(deleted, timeout=60, message="stack delete")
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)


# ---------------------------------------------------------------------------------------------
# latency figures (printed; the assertions are sanity bounds)


def test_cold_and_warm_latency(lam, unique_name, wait_until, capsys):
    create_function(lam, unique_name, "index.asyncObj")
    try:
        wait_active(lam, [unique_name], wait_until)
        _, _, cold = invoke(lam, unique_name)
        warm = [invoke(lam, unique_name)[2] for _ in range(15)]
        median = statistics.median(warm)
        with capsys.disabled():
            print(f"\n[latency] cold invoke {cold * 1000:.0f} ms, warm median {median * 1000:.1f} ms (n=15)")
        assert cold < 5.0 and median < 0.5
    finally:
        lam.delete_function(FunctionName=unique_name)


# ---------------------------------------------------------------------------------------------
# the runner on its own: a stub LocalStack callback server, no LocalStack


def _runner_path() -> Path:
    try:
        import cmp_localstack.lambda_process as pkg

        p = Path(pkg.__file__).parent / "runner" / "runner.cjs"
        if p.is_file():
            return p
    except ImportError:
        pass
    return REPO / "scripts/localstack-plugins/cmp_localstack/lambda_process/runner/runner.cjs"


class _Stub:
    """Records the runner's callbacks (path, headers, body) in arrival order."""

    def __init__(self):
        self.calls: list[tuple[str, dict, bytes]] = []
        self.cond = threading.Condition()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with stub.cond:
                    stub.calls.append((self.path, dict(self.headers), body))
                    stub.cond.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/_localstack_lambda/rid1"

    def wait_for(self, suffix: str, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for call in self.calls:
                    if call[0].endswith(suffix):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no callback {suffix}; got {[c[0] for c in self.calls]}")
                self.cond.wait(left)


@pytest.fixture
def runner(tmp_path):
    """Start runner.cjs against a stub; yields start(handler_source, handler, timeout) -> (stub, port, proc)."""
    procs: list[subprocess.Popen] = []
    stubs: list[_Stub] = []

    def start(source: str, handler: str = "index.handler", timeout: int = 3, extra_env=None):
        (tmp_path / "index.js").write_text(source)
        stub = _Stub()
        stubs.append(stub)
        env = {
            **_bare_runner_env(stub, tmp_path),
            "LOCALSTACK_INTEROP_PORT": "0",
            "LOCALSTACK_SECRET_THING": "must-not-leak",
            "LOCALSTACK_HOSTNAME": "127.0.0.1",
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            **(extra_env or {}),
        }
        log = open(tmp_path / "runner.log", "ab")
        proc = subprocess.Popen(
            ["node", str(_runner_path())], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        procs.append(proc)
        ready = stub.wait_for("/status/rid1/ready")
        return stub, json.loads(ready[2])["port"], proc

    yield start
    for p in procs:
        p.kill()
        p.wait()
    for s in stubs:
        s.server.shutdown()


def _post_invoke(port: int, req_id: str, payload: dict) -> int:
    import urllib.request

    body = json.dumps(
        {
            "invoke-id": req_id,
            "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "payload": json.dumps(payload),
            "trace-id": "Root=1-0-0;Parent=1;Sampled=0",
        }
    ).encode()
    rq = urllib.request.Request(
        f"http://127.0.0.1:{port}/invoke", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(rq, timeout=5) as resp:
        return resp.status


def test_runner_alone_posts_logs_before_the_result_and_hides_internals(runner):
    src = (
        "exports.handler = async (e) => { console.log('hi', e.n);"
        " return Object.keys(process.env).filter((k) => k.startsWith('LOCALSTACK_')); };"
    )
    stub, port, _ = runner(src)
    assert _post_invoke(port, "req-1", {"n": 7}) == 200
    response = stub.wait_for("/invocations/req-1/response")
    paths = [c[0] for c in stub.calls]
    assert paths.index("/_localstack_lambda/rid1/invocations/req-1/logs") < paths.index(response[0])
    logs = json.loads(next(c[2] for c in stub.calls if c[0].endswith("/req-1/logs")))["logs"]
    assert "START RequestId: req-1 Version: $LATEST" in logs and "\treq-1\tINFO\thi 7" in logs
    assert json.loads(response[2]) == ["LOCALSTACK_HOSTNAME"]


def test_runner_alone_soft_timeout_asks_for_a_restart(runner):
    stub, port, proc = runner(
        "exports.handler = () => new Promise(() => setTimeout(() => {}, 60000));", timeout=1
    )
    t0 = time.monotonic()
    _post_invoke(port, "req-2", {})
    path, headers, body = stub.wait_for("/invocations/req-2/error", timeout=5)
    assert 0.9 <= time.monotonic() - t0 < 2.0
    assert json.loads(body)["errorType"] == "Sandbox.Timedout"
    assert {k.lower(): v for k, v in headers.items()}.get("x-localstack-runtime-restart") == "1"


def _bare_runner_env(stub: "_Stub", root) -> dict[str, str]:
    """The least environment runner.cjs starts with (the `runner` fixture adds the rest)."""
    return {
        "PATH": os.environ["PATH"],
        "LOCALSTACK_RUNTIME_ENDPOINT": stub.base,
        "LOCALSTACK_RUNTIME_ID": "rid1",
        "_HANDLER": "index.handler",
        "LAMBDA_TASK_ROOT": str(root),
    }


def test_runner_alone_init_error_goes_to_status_error(tmp_path):
    stub = _Stub()
    (tmp_path / "index.js").write_text("exports.other = 1;")
    env = _bare_runner_env(stub, tmp_path)
    proc = subprocess.run(
        ["node", str(_runner_path())], env=env, cwd=tmp_path, capture_output=True, timeout=10
    )
    assert proc.returncode == 1
    _, _, body = stub.wait_for("/status/rid1/error")
    assert json.loads(body)["errorType"] == "Runtime.HandlerNotFound"
    stub.server.shutdown()


def test_runner_alone_exits_when_its_parent_dies(tmp_path):
    """No orphans: killing the parent (LocalStack) makes the runner exit by itself."""
    stub = _Stub()
    (tmp_path / "index.js").write_text("exports.handler = async () => 1;")
    env = _bare_runner_env(stub, tmp_path)
    parent = subprocess.Popen(
        ["bash", "-c", f'node "{_runner_path()}" >/dev/null 2>&1 & echo $!; wait'],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    child = int(parent.stdout.readline())
    stub.wait_for("/status/rid1/ready")
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def gone():
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
            return state == "Z"  # exited, waiting to be reaped by init
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 5
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = not gone()
    if alive:
        os.kill(child, signal.SIGKILL)
    stub.server.shutdown()
    assert not alive, "runner outlived its parent"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
