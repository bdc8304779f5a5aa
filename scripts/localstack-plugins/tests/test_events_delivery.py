"""events:parity (PROVIDER_OVERRIDE_EVENTS=parity): target RetryPolicy and DeadLetterConfig, DISABLED rules.

Part 1 (no LocalStack): error classification and the retry policy of ``cmp_localstack.events_parity.delivery`` with a
fake clock and fake targets; skipped when the plugin is not importable (run with the LocalStack venv's python).
Part 2 (live LocalStack at LOCALSTACK_ENDPOINT, started by scripts/localstack.sh): dead letters with AWS's
attributes for targets that do not exist (not retried), connection failures retried per RetryPolicy then
dead-lettered, a retry that succeeds, a Lambda function error that is Lambda's business, one failing target not
holding up the others, PutEvents not waiting, rules created DISABLED / disabled / enabled again. ~20 s.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

delivery = pytest.importorskip("cmp_localstack.events_parity.delivery")

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/events-role"


# --------------------------------------------------------------------------------------------------------------
# Part 1: classification and retry policy (pure)


def client_error(code: str, status: int, message: str = "m"):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    "error,code,retryable",
    [
        (client_error("AWS.SimpleQueueService.NonExistentQueue", 400), "NO_RESOURCE", False),
        (client_error("ResourceNotFoundException", 404), "NO_RESOURCE", False),
        (client_error("StateMachineDoesNotExist", 400), "NO_RESOURCE", False),
        (client_error("AccessDeniedException", 403), "NO_PERMISSIONS", False),
        (client_error("InvalidParameterValue", 400), "INVALID_PARAMETER", False),
        (client_error("ResourceConflictException", 409), "SDK_CLIENT_ERROR", False),
        (client_error("TooManyRequestsException", 429), "THROTTLING", True),
        (client_error("ThrottlingException", 400), "THROTTLING", True),
        (client_error("ServiceUnavailable", 503), "INTERNAL_ERROR", True),
        ("connection", "CONNECTION_FAILURE", True),
        ("timeout", "TIMEOUT", True),
        (KeyError("id"), "INTERNAL_ERROR", True),
        (NotImplementedError("ECS target is a pro feature"), "INTERNAL_ERROR", False),
    ],
)
def test_errors_are_classified_as_eventbridge_does(error, code, retryable):
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    if error == "connection":
        error = EndpointConnectionError(endpoint_url="http://x")
    elif error == "timeout":
        error = ReadTimeoutError(endpoint_url="http://x")
    failure = delivery.classify(error)
    assert (failure.code, failure.retryable) == (code, retryable)


class FakeSender:
    rule_arn = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/r"

    def __init__(self, failures, retry_policy=None):
        self.target = {"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}
        if retry_policy:
            self.target["RetryPolicy"] = retry_policy
        self.failures = list(failures)
        self.received = []

    def process_event(self, event, trace_header):
        self.received.append(dict(event))
        event.pop("event-bus-name")  # as LocalStack's TargetSender does
        if self.failures:
            raise self.failures.pop(0)


class Manual(delivery.Deliverer):
    """Retries are run by the test, on a fake clock."""

    def __init__(self):
        self.now = 1000.0
        self.dead = []
        super().__init__(clock=lambda: self.now, dead_letter=lambda d, f, exhausted: self.dead.append((d, f, exhausted)))
        self.scheduled = []

    def _schedule(self, d, delay):
        self.scheduled.append((d, delay))

    def run_retries(self):
        while self.scheduled:
            d, delay = self.scheduled.pop(0)
            self.now += delay
            self.attempt(d)


EVENT = {"id": "e1", "source": "s", "detail": {}, "event-bus-name": "b"}


def test_retryable_failures_are_retried_until_maximum_retry_attempts():
    d = Manual()
    sender = FakeSender([client_error("ServiceUnavailable", 503)] * 10, {"MaximumRetryAttempts": 2})
    d.deliver(sender, EVENT, None)
    d.run_retries()
    assert len(sender.received) == 3  # the attempt and 2 retries
    assert all(e == EVENT for e in sender.received)  # each attempt gets the event unchanged
    [(dl, failure, exhausted)] = d.dead
    assert (dl.attempts, failure.code, exhausted) == (3, "INTERNAL_ERROR", "MaximumRetryAttempts")


def test_retries_stop_at_maximum_event_age():
    d = Manual()
    d.base, d.max = 20.0, 40.0
    sender = FakeSender([client_error("ThrottlingException", 400)] * 50, {"MaximumEventAgeInSeconds": 60})
    d.deliver(sender, EVENT, None)
    d.run_retries()
    [(dl, failure, exhausted)] = d.dead
    assert exhausted == "MaximumEventAgeInSeconds" and failure.code == "THROTTLING"
    assert d.now - 1000.0 <= 60 and 2 <= dl.attempts <= 5


def test_default_policy_is_185_retries():
    d = Manual()
    d.base = d.max = 0.0
    sender = FakeSender([client_error("ServiceUnavailable", 503)] * 300)
    d.deliver(sender, EVENT, None)
    d.run_retries()
    assert len(sender.received) == 186 and d.dead[0][2] == "MaximumRetryAttempts"


def test_permanent_errors_are_not_retried_and_success_dead_letters_nothing():
    d = Manual()
    d.deliver(FakeSender([client_error("QueueDoesNotExist", 400)], {"MaximumRetryAttempts": 5}), EVENT, None)
    assert not d.scheduled and d.dead[0][0].attempts == 1 and d.dead[0][2] is None
    ok = FakeSender([client_error("TooManyRequestsException", 429)])
    d.deliver(ok, EVENT, None)
    d.run_retries()
    assert len(ok.received) == 2 and len(d.dead) == 1


def test_backoff_is_exponential_with_jitter_and_bounded():
    d = Manual()
    d.base, d.max = 0.2, 3.0
    for attempt in range(1, 12):
        full = min(0.2 * 2 ** (attempt - 1), 3.0)
        assert full / 2 <= d.backoff(attempt) <= full


# --------------------------------------------------------------------------------------------------------------
# Part 2: live



def attrs(message: dict) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Env:
    def __init__(self, aws_client, name):
        self.events, self.sqs = aws_client("events"), aws_client("sqs")
        self.name = name
        self.bus = self.events.create_event_bus(Name=name)["EventBusArn"]
        self.dlq_url, self.dlq_arn = self.queue("dlq")

    def queue(self, suffix: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=f"{self.name}-{suffix}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def rule(self, source: str, targets: list[dict], state: str = "ENABLED") -> str:
        arn = self.events.put_rule(
            Name=source, EventBusName=self.name, EventPattern=json.dumps({"source": [source]}), State=state
        )["RuleArn"]
        assert self.events.put_targets(Rule=source, EventBusName=self.name, Targets=targets)["FailedEntryCount"] == 0
        return arn

    def put(self, source: str, detail: dict | None = None, count: int = 1) -> list[str]:
        entries = [
            {"Source": source, "DetailType": "test", "Detail": json.dumps(detail or {"n": i}), "EventBusName": self.name}
            for i in range(count)
        ]
        res = self.events.put_events(Entries=entries)
        assert res["FailedEntryCount"] == 0
        return [e["EventId"] for e in res["Entries"]]

    def api_destination(self, port: int) -> str:
        connection = self.events.create_connection(
            Name=f"{self.name}-{port}",
            AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "v"}},
        )["ConnectionArn"]
        return self.events.create_api_destination(
            Name=f"{self.name}-{port}",
            ConnectionArn=connection,
            InvocationEndpoint=f"http://127.0.0.1:{port}/hook",
            HttpMethod="POST",
        )["ApiDestinationArn"]


@pytest.fixture(scope="module")
def env(aws_client, endpoint):
    name = f"cmp-evd-{time.time_ns() % 10**8}"
    return Env(aws_client, name)


@pytest.mark.parametrize("kind", ["sqs", "lambda", "states"])
def test_a_target_that_does_not_exist_is_dead_lettered_at_once_with_awss_attributes(env, kind, drain):
    arn = {
        "sqs": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{env.name}-gone",
        "lambda": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{env.name}-gone",
        "states": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{env.name}-gone",
    }[kind]
    source = f"missing-{kind}"
    rule_arn = env.rule(
        source,
        [
            {
                "Id": "t",
                "Arn": arn,
                "RoleArn": ROLE,
                "DeadLetterConfig": {"Arn": env.dlq_arn},
                "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 60},
                # the dead letter carries the event as matched, not the target's input
                "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"only": <s>}'},
            }
        ],
    )
    [event_id] = env.put(source, {"kind": kind})
    [dead] = drain(env.sqs, env.dlq_url, wait=10, expect=1)
    a = attrs(dead)
    assert a.pop("ERROR_MESSAGE")
    assert a == {"RULE_ARN": rule_arn, "TARGET_ARN": arn, "ERROR_CODE": "NO_RESOURCE", "RETRY_ATTEMPTS": "0"}
    body = json.loads(dead["Body"])
    assert body["id"] == event_id and body["source"] == source and body["detail"] == {"kind": kind}
    assert "event-bus-name" not in body and "only" not in body


def test_connection_failures_are_retried_per_retry_policy_then_dead_lettered(env, drain):
    arn = env.api_destination(free_port())  # nothing listens there
    env.rule("refused", [{"Id": "t", "Arn": arn, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": env.dlq_arn},
                          "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60}}])
    t0 = time.monotonic()
    ids = env.put("refused", count=10)
    put_seconds = time.monotonic() - t0
    dead = drain(env.sqs, env.dlq_url, wait=15, expect=10)
    elapsed = time.monotonic() - t0
    assert put_seconds < 1.0  # PutEvents does not wait for deliveries, let alone retries
    assert sorted(json.loads(m["Body"])["id"] for m in dead) == sorted(ids)
    for m in dead:
        a = attrs(m)
        assert (a["ERROR_CODE"], a["RETRY_ATTEMPTS"], a["EXHAUSTED_RETRY_CONDITION"]) == (
            "CONNECTION_FAILURE", "3", "MaximumRetryAttempts"
        )
    assert 0.1 + 0.2 + 0.4 <= elapsed < 12  # three backoffs of at least base/2 * 2^(n-1) (base 0.2 s)


def test_maximum_retry_attempts_zero_dead_letters_after_the_first_failure(env, drain):
    arn = env.api_destination(free_port())
    env.rule("refused-once", [{"Id": "t", "Arn": arn, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": env.dlq_arn},
                               "RetryPolicy": {"MaximumRetryAttempts": 0}}])
    env.put("refused-once")
    [dead] = drain(env.sqs, env.dlq_url, wait=10, expect=1)
    assert (attrs(dead)["RETRY_ATTEMPTS"], attrs(dead)["EXHAUSTED_RETRY_CONDITION"]) == ("0", "MaximumRetryAttempts")


def test_a_retry_delivers_once_the_target_is_back(env, drain):
    port = free_port()
    arn = env.api_destination(port)
    env.rule("comes-back", [{"Id": "t", "Arn": arn, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": env.dlq_arn},
                             "RetryPolicy": {"MaximumRetryAttempts": 10}}])
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    [event_id] = env.put("comes-back")
    time.sleep(0.3)  # the first attempt (at once) and the first retry (0.1-0.2 s later) are refused
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.shutdown()
    assert [e["id"] for e in received] == [event_id]
    assert drain(env.sqs, env.dlq_url, wait=1.5) == []


def test_a_failing_target_does_not_hold_up_the_others(env, drain):
    url, arn = env.queue("healthy")
    env.rule("mixed", [
        {"Id": "gone", "Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{env.name}-gone"},  # no DLQ: dropped (logged)
        {"Id": "slow", "Arn": env.api_destination(free_port()), "RoleArn": ROLE, "RetryPolicy": {"MaximumRetryAttempts": 2}},
        {"Id": "ok", "Arn": arn},
    ])
    [event_id] = env.put("mixed")
    [message] = drain(env.sqs, url, wait=5, expect=1)
    assert json.loads(message["Body"])["id"] == event_id


def test_a_lambda_function_error_is_not_a_delivery_failure(env, aws_client, wait_until, drain):
    """EventBridge invokes asynchronously: the function's error goes to Lambda's own on-failure destination."""
    import io
    import zipfile

    lam = aws_client("lambda")
    on_failure_url, on_failure_arn = env.queue("fn-failures")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.js", "exports.handler = async () => { throw new Error('boom'); };\n")
    name = f"{env.name}-fails"
    fn_arn = lam.create_function(
        FunctionName=name, Runtime="nodejs22.x", Handler="index.handler", Role=ROLE, Code={"ZipFile": buf.getvalue()}
    )["FunctionArn"]
    try:
        wait_until(lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active", timeout=60)
        lam.put_function_event_invoke_config(
            FunctionName=name,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": on_failure_arn}},
        )
        env.rule("fn-error", [{"Id": "fn", "Arn": fn_arn, "DeadLetterConfig": {"Arn": env.dlq_arn}}])
        [event_id] = env.put("fn-error")
        [record] = drain(env.sqs, on_failure_url, wait=20, expect=1)
        failure = json.loads(record["Body"])
        assert failure["requestPayload"]["id"] == event_id
        assert failure["responsePayload"]["errorMessage"] == "boom"
        assert drain(env.sqs, env.dlq_url, wait=1) == []
    finally:
        lam.delete_function(FunctionName=name)


def test_disabled_rules_deliver_nothing_until_enabled(env, drain):
    url, arn = env.queue("toggled")
    env.rule("toggled", [{"Id": "q", "Arn": arn}], state="DISABLED")
    env.put("toggled", {"phase": "created disabled"})
    time.sleep(1.0)
    env.events.enable_rule(Name="toggled", EventBusName=env.name)
    env.put("toggled", {"phase": "enabled"})
    time.sleep(1.0)
    env.events.disable_rule(Name="toggled", EventBusName=env.name)
    env.put("toggled", {"phase": "disabled again"})
    got = [json.loads(m["Body"])["detail"]["phase"] for m in drain(env.sqs, url, wait=2.5)]
    assert got == ["enabled"]
