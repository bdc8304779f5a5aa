"""A LocalStack ``RuntimeExecutor`` that runs Node.js Lambda functions as local processes.

One ``node runner/runner.cjs`` process per LocalStack execution environment, started in its own
process group. The runner speaks LocalStack's init protocol (``executor_endpoint.py``), so this
module reuses ``ExecutorEndpoint`` with three changes: the runner's port comes from the body of
the ready callback, callbacks for any request but the current one are ignored, and an error posted
with ``X-LocalStack-Runtime-Restart`` marks the process for replacement.

What the Go init does inside the Lambda container and LocalStack does not, this executor does:
the hard function timeout (kill and re-init), re-init after a crash, and a raw per-environment log.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    InvokeSendError,
    ShutdownDuringStartup,
    StatusErrorException,
    executor_router,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)


class _DaemonTimer(threading.Timer):
    """threading.Timer that does not keep the interpreter alive."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.daemon = True


def _patch_environment_timers() -> None:
    """LocalStack 4.13.1 bug, worse with many functions: each idle execution environment holds a
    non-daemon keep-alive ``threading.Timer`` (LAMBDA_KEEPALIVE_MS, default 10 min). At shutdown the
    Lambda service gives its version-stop tasks 5 s, cancels the rest, and the environments of the
    cancelled ones keep their timers, so the interpreter waits up to 10 min before it exits (seen
    after deleting ~40 functions: each event-manager stop waits up to 2 s on a long poll). Daemon
    timers let LocalStack exit; our node processes then exit too (they watch their parent)."""
    from localstack.services.lambda_.invocation import execution_environment

    if execution_environment.Timer is threading.Timer:
        execution_environment.Timer = _DaemonTimer


_patch_environment_timers()

RUNNER = Path(__file__).parent / "runner" / "runner.cjs"
RESTART_HEADER = "X-LocalStack-Runtime-Restart"
# seconds after the function timeout before the executor kills a runner that did not report
HARD_TIMEOUT_GRACE_S = float(os.environ.get("PROCESS_EXECUTOR_TIMEOUT_GRACE", "") or 1.0)
# environment variables of LocalStack's own process that the function process inherits
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT")


def node_binary() -> str:
    return os.environ.get("PROCESS_EXECUTOR_NODE", "").strip() or "node"


def _err_json(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def timeout_error(req_id: str, timeout_s: float) -> bytes:
    return _err_json(
        "Sandbox.Timedout", f"RequestId: {req_id} Error: Task timed out after {timeout_s:.2f} seconds"
    )


def exit_error(req_id: str | None, returncode: int) -> bytes:
    if returncode == 0:
        why = "Runtime exited without providing a reason"
    elif returncode < 0:
        try:
            name = signal.Signals(-returncode).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-returncode)
        why = f"Runtime exited with error: signal: {name}"
    else:
        why = f"Runtime exited with error: exit status {returncode}"
    prefix = f"RequestId: {req_id} " if req_id else ""
    return _err_json("Runtime.ExitError", f"{prefix}Error: {why}")


def node_path(cfg, code_dir: str) -> list[str]:
    """NODE_PATH as AWS's Node.js bootstrap builds it: layers, the runtime's modules, the task."""
    major = str(cfg.runtime or "").removeprefix("nodejs").split(".")[0]
    parts: list[str] = []
    for layer in reversed(cfg.layers or []):  # later layers override earlier ones
        root = layer.code.get_unzipped_code_location()
        parts += [
            str(root / "nodejs" / f"node{major}" / "node_modules"),
            str(root / "nodejs" / "node_modules"),
        ]
    extra = os.environ.get("PROCESS_EXECUTOR_EXTRA_NODE_PATH", "").strip()
    if extra:
        parts += [p for p in extra.split(os.pathsep) if p]
    parts.append(code_dir)
    return parts


class ProcessExecutorEndpoint(ExecutorEndpoint):
    """LocalStack's endpoint, hardened for a process that can be restarted and can be late."""

    def __init__(self, executor_id: str):
        super().__init__(executor_id, container_address="127.0.0.1", container_port=0)
        self.current_req_id: str | None = None
        self.needs_restart = False
        self._lock = threading.Lock()
        self._registered = False

    # -- callbacks from the runner --------------------------------------------------------------
    def status_ready(self, request, executor_id):
        body = request.get_data()
        if body:
            try:
                self.container_port = int(json.loads(body).get("port") or self.container_port)
            except (ValueError, AttributeError, TypeError):
                LOG.warning("process executor %s: bad ready body %r", executor_id, body[:200])
        fut = self.startup_future
        if fut is not None:
            self._settle(fut, result=True)
        return Response(status=HTTPStatus.ACCEPTED)

    def status_error(self, request, executor_id):
        LOG.warning("Execution environment startup failed: %s", request.get_data(as_text=True)[:2000])
        fut = self.startup_future
        exc = StatusErrorException("Environment startup failed", payload=request.get_data())
        if fut is None or not self._settle(fut, exception=exc):
            return Response(status=HTTPStatus.BAD_REQUEST)
        return Response(status=HTTPStatus.ACCEPTED)

    def invocation_logs(self, request, invoke_id):
        if invoke_id != self.current_req_id:
            return Response(status=HTTPStatus.CONFLICT)
        return super().invocation_logs(request, invoke_id)

    def invocation_response(self, request, req_id):
        return self._complete(request, req_id, is_error=False)

    def invocation_error(self, request, req_id):
        if request.headers.get(RESTART_HEADER):
            self.needs_restart = True
        return self._complete(request, req_id, is_error=True)

    def _complete(self, request, req_id: str, is_error: bool) -> Response:
        fut = self.invocation_future
        if fut is None or req_id != self.current_req_id:
            return Response(status=HTTPStatus.CONFLICT)  # late callback of a replaced process
        result = InvocationResult(req_id, request.get_data(), is_error=is_error, logs=self.logs)
        if not self._settle(fut, result=result):
            return Response(status=HTTPStatus.CONFLICT)  # the executor already gave up (hard timeout)
        return Response(status=HTTPStatus.ACCEPTED)

    # -- helpers --------------------------------------------------------------------------------
    def _settle(self, fut: Future, result=None, exception: BaseException | None = None) -> bool:
        """Complete ``fut`` unless it is already done; True if this call completed it."""
        with self._lock:
            if fut.done():
                return False
            if exception is not None:
                fut.set_exception(exception)
            else:
                fut.set_result(result)
            return True

    def start(self) -> None:
        with self._lock:
            executor_router().register_endpoint(self.executor_id, self)
            self._registered = True
            self.startup_future = Future()

    def shutdown(self) -> None:
        """Idempotent, safe before ``start()`` (the stock one raises KeyError/AttributeError)."""
        with self._lock:
            if self._registered:
                executor_router().endpoints.pop(self.executor_id, None)
                self._registered = False
            if self.startup_future is not None:
                self.startup_future.cancel()
            if self.invocation_future is not None:
                self.invocation_future.cancel()


class ProcessRuntimeExecutor(RuntimeExecutor):
    """Runs one Lambda execution environment as a local ``node`` process."""

    def __init__(self, id: str, function_version: FunctionVersion):
        # called from ExecutionEnvironment.__init__: cheap, starts nothing
        super().__init__(id, function_version)
        self.endpoint = ProcessExecutorEndpoint(id)
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.stopping = False
        self.lock = threading.RLock()
        self.workdir: Path | None = None
        self.env: dict[str, str] = {}
        self._log_offset = 0  # runtime.log size when the current invocation started
        self._invoke_started = time.monotonic()

    # -- addresses (called by get_environment_variables() BEFORE start()) -----------------------
    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        # never the Docker-based networking helpers: they call Docker in host mode
        return config.HOSTNAME_FROM_LAMBDA or "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        gw = config.GATEWAY_LISTEN[0]
        host = gw.host if gw.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{gw.port}{self.endpoint.get_endpoint_prefix()}"

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        with self.lock:
            if self.stopping:  # startup timer fired while LocalStack assembled env_vars
                raise ShutdownDuringStartup("Execution environment stopped before start")
            self.endpoint.start()
            self.workdir = Path(tempfile.mkdtemp(prefix=f"lambda-{self.id[:8]}-", dir=_workdir_root()))
            self.env = self._build_env(env_vars)
            self._spawn()
        self._wait_for_startup(self.endpoint.startup_future, timeout=None)

    def _build_env(self, env_vars: dict) -> dict[str, str]:
        cfg = self.function_version.config
        code_dir = str(cfg.code.get_unzipped_code_location())
        user = cfg.environment or {}
        env = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}  # not LocalStack's whole env
        env.update({k: str(v) for k, v in env_vars.items() if v is not None})  # some values are ints
        if "LAMBDA_TASK_ROOT" not in user:
            env["LAMBDA_TASK_ROOT"] = code_dir
        if "LAMBDA_RUNTIME_DIR" not in user:
            env["LAMBDA_RUNTIME_DIR"] = str(RUNNER.parent)
        if "NODE_PATH" not in user:
            env["NODE_PATH"] = os.pathsep.join(node_path(cfg, code_dir))
        if "AWS_EXECUTION_ENV" not in user:
            env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{cfg.runtime}"
        tmp = str(self.workdir / "tmp")
        for k in ("TMPDIR", "TMP", "TEMP"):
            if k not in user:
                env[k] = tmp
        env["LOCALSTACK_INTEROP_PORT"] = "0"  # the runner binds an ephemeral port and reports it
        env.setdefault("NO_PROXY", "127.0.0.1,localhost")
        return env

    def _spawn(self) -> None:
        with self.lock:
            if self.stopping:
                raise ShutdownDuringStartup("Execution environment is stopping")
            self.generation += 1
            gen = self.generation
            (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
            self.endpoint.needs_restart = False
            with open(self.workdir / "runtime.log", "ab") as log:
                self.proc = subprocess.Popen(
                    [node_binary(), str(RUNNER)],
                    cwd=self.env["LAMBDA_TASK_ROOT"],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group: killpg takes the user's children too
                )
            proc = self.proc
        threading.Thread(
            target=self._watch, args=(proc, gen), name=f"lambda-process-{self.id[:8]}", daemon=True
        ).start()

    def _watch(self, proc: subprocess.Popen, gen: int) -> None:
        rc = proc.wait()
        if self.stopping or gen != self.generation:  # killed on purpose or superseded
            return
        self.endpoint.needs_restart = True
        sf = self.endpoint.startup_future
        if sf is not None and not sf.done():  # died during init: fail now, not after 20 s
            self.endpoint._settle(
                sf,
                exception=StatusErrorException("Runtime exited during init", payload=exit_error(None, rc)),
            )
        inv = self.endpoint.invocation_future
        rid = self.endpoint.current_req_id
        if inv is not None and not inv.done() and rid:
            time.sleep(0.05)  # a final callback may still be in flight
            logs = self._invocation_logs(rid, f"RequestId: {rid} Error: Runtime exited (code {rc})")
            self.endpoint._settle(
                inv, result=InvocationResult(rid, exit_error(rid, rc), is_error=True, logs=logs)
            )

    def _wait_for_startup(self, fut: Future, timeout: float | None) -> None:
        try:
            fut.result(timeout=timeout)
        except CancelledError as e:
            raise ShutdownDuringStartup("Execution environment shut down during startup") from e

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        req_id = payload["invoke-id"]
        if self.stopping:
            raise LambdaRuntimeException("Execution environment is stopping")
        proc = self.proc  # read once: stop() or _kill() on another thread may clear it
        if self.endpoint.needs_restart or proc is None or proc.poll() is not None:
            try:
                self._restart()  # AWS re-initialises the sandbox after a timeout or a crash
            except StatusErrorException as e:
                return InvocationResult(req_id, e.payload, is_error=True, logs=self._tail())
        ep = self.endpoint
        fut: Future = Future()
        with ep._lock:
            ep.current_req_id = req_id
            ep.logs = None
            ep.invocation_future = fut
        self._log_offset = self._log_size()
        self._invoke_started = time.monotonic()
        response = ExecutorEndpoint._perform_invoke(
            invocation_url=f"http://127.0.0.1:{ep.container_port}/invoke",
            proxies={"http": "", "https": ""},
            payload=payload,
        )
        if not response.ok:
            raise InvokeSendError(f"runner rejected the invocation: HTTP {response.status_code}")
        timeout_s = float(self.function_version.config.timeout)
        try:
            result = fut.result(timeout=timeout_s + HARD_TIMEOUT_GRACE_S)  # CancelledError on stop()
        except FutureTimeout:
            # the event loop is blocked (the runner's own timer could not fire): kill and report
            self._kill(sig=signal.SIGKILL)
            logs = self._invocation_logs(
                req_id, f"Task timed out after {timeout_s:.2f} seconds", timed_out=True
            )
            result = InvocationResult(req_id, timeout_error(req_id, timeout_s), is_error=True, logs=logs)
            if not ep._settle(fut, result=result):
                result = fut.result()  # the runner answered in the very last moment
            ep.needs_restart = True
        if ep.needs_restart:
            self._kill()  # reset now (stray timers, a spinning loop); re-init on the next invoke
        return result

    def _restart(self) -> None:
        self._kill(sig=signal.SIGKILL)
        with self.lock:
            self.endpoint.startup_future = Future()
            fut = self.endpoint.startup_future
            self._spawn()
        try:
            self._wait_for_startup(fut, timeout=config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
        except FutureTimeout as e:
            self._kill(sig=signal.SIGKILL)
            raise StatusErrorException(
                "re-init timeout",
                payload=_err_json("Runtime.Unknown", "Execution environment re-initialisation timed out"),
            ) from e

    def _kill(self, sig: int = signal.SIGTERM) -> None:
        with self.lock:
            p, self.proc = self.proc, None
            self.generation += 1  # silence its watcher
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, sig)
            p.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
        try:  # make sure the whole group is gone (user code may have spawned children)
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            LOG.warning("process executor %s: node process %s did not exit", self.id, p.pid)

    def stop(self) -> None:
        # idempotent; may run on any thread, also while start() or invoke() block
        self.stopping = True
        self._kill()
        self.endpoint.shutdown()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- logs -----------------------------------------------------------------------------------
    def _log_size(self) -> int:
        try:
            return (self.workdir / "runtime.log").stat().st_size
        except (OSError, TypeError):
            return 0

    def _tail(self, n: int = 4096) -> str:
        try:
            with open(self.workdir / "runtime.log", "rb") as f:
                f.seek(max(0, self._log_size() - n))
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def _invocation_logs(self, req_id: str, reason: str, timed_out: bool = False) -> str:
        """What the runner printed for this invocation, closed with the END/REPORT lines it could
        not write itself (it was killed or crashed)."""
        start = self._log_offset
        try:
            with open(self.workdir / "runtime.log", "rb") as f:
                f.seek(start)
                text = f.read(1024 * 1024).decode("utf-8", "replace")
        except (OSError, TypeError):
            text = ""
        ms = (time.monotonic() - self._invoke_started) * 1000
        mem = self.function_version.config.memory_size
        if text and not text.endswith("\n"):
            text += "\n"
        if timed_out:
            text += f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {req_id} {reason}\n"
        else:
            text += f"{reason}\n"
        text += f"END RequestId: {req_id}\n"
        text += (
            f"REPORT RequestId: {req_id}\tDuration: {ms:.2f} ms\tBilled Duration: {max(1, int(ms + 0.999))} ms\t"
            f"Memory Size: {mem} MB\tMax Memory Used: {mem} MB\t\n"
        )
        return text

    def get_logs(self) -> str:
        return self._tail(64 * 1024)

    # -- versions -------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # no Docker, no image, no download of the Go init: unzip the code (and layers), check node
        cfg = function_version.config
        runtime = str(cfg.runtime or "")
        if cfg.package_type != PackageType.Zip or not runtime.startswith("nodejs"):
            message = (
                f"process executor: only Zip functions on nodejs* runtimes are supported "
                f"({function_version.qualified_arn}: {cfg.package_type} {runtime or '-'})"
            )
            LOG.error(message)
            raise LambdaRuntimeException(message)
        if not shutil.which(node_binary()):
            message = f"process executor: '{node_binary()}' not found on PATH"
            LOG.error(message)
            raise LambdaRuntimeException(message)
        if cfg.code:
            cfg.code.prepare_for_execution()
        for layer in cfg.layers or []:
            layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass  # the unzipped code is owned (and deleted) by LocalStack

    @classmethod
    def validate_environment(cls) -> bool:
        node = shutil.which(node_binary())
        if not node:
            LOG.warning("process executor: '%s' not found on PATH; Lambda invokes will fail", node_binary())
            return False
        try:
            version = subprocess.run(
                [node, "--version"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            version = "?"
        LOG.info("process Lambda runtime executor: %s %s, runner %s", node, version, RUNNER)
        return True


def _workdir_root() -> str | None:
    """Per-environment TMPDIR and raw log live under LocalStack's tmp dir (FILESYSTEM_ROOT)."""
    try:
        root = Path(config.dirs.tmp) / "lambda-process"
        root.mkdir(parents=True, exist_ok=True)
        return str(root)
    except Exception:  # noqa: BLE001 - fall back to the system temp dir
        return None
