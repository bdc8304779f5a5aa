"""Step Functions (LocalStack 4.13.1's v2 interpreter, plus the cmp Step Functions patch) as the kit's Saga uses
it: idempotent StartExecution, Express StartSyncExecution, callbacks with timeouts and heartbeats, Retry and
Catch, Lambda tasks through the process executor, RedriveExecution, JSONata.

    .venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests/test_sfn.py -q
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_lambda_process import ROLE as LAMBDA_ROLE
from test_lambda_process import RUNTIME, make_zip, wait_active

ROLE = "arn:aws:iam::000000000000:role/sfn-role"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

# fails with TransientError while the in-memory count for event.key is below event.failures; then echoes
FLAKY_JS = r"""
const counts = {};
exports.handler = async (event) => {
  const n = (counts[event.key] = (counts[event.key] || 0) + 1);
  if (n <= (event.failures || 0)) {
    class TransientError extends Error { constructor(m) { super(m); this.name = 'TransientError'; } }
    throw new TransientError(`attempt ${n}`);
  }
  return { key: event.key, attempts: n };
};
"""


@pytest.fixture(scope="module")
def sfn(aws_client):
    return aws_client("stepfunctions")


@pytest.fixture
def machine(sfn, unique_name):
    """machine(definition, type="STANDARD") -> state machine ARN (deleted after the test)."""
    arns = []

    def make(definition: dict, typ: str = "STANDARD", suffix: str = "") -> str:
        arn = sfn.create_state_machine(
            name=f"{unique_name}{suffix}", definition=json.dumps(definition), roleArn=ROLE, type=typ
        )["stateMachineArn"]
        arns.append(arn)
        return arn

    yield make
    for arn in arns:
        sfn.delete_state_machine(stateMachineArn=arn)


@pytest.fixture(scope="module")
def flaky_fn(aws_client, wait_until):
    lam = aws_client("lambda")
    name = f"cmp-sfn-flaky-{int(time.time() * 1000) % 10**8}"
    arn = lam.create_function(
        FunctionName=name, Runtime=RUNTIME, Handler="index.handler", Role=LAMBDA_ROLE,
        Code={"ZipFile": make_zip({"index.js": FLAKY_JS})}, Timeout=5,
    )["FunctionArn"]
    wait_active(lam, [name], wait_until)
    yield arn
    lam.delete_function(FunctionName=name)


def finished(sfn, wait_until, arn: str, timeout: float = 30) -> dict:
    return wait_until(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] in TERMINAL and d,
        timeout=timeout, interval=0.1, message=f"execution {arn.rsplit(':', 1)[-1]} closed",
    )


def history(sfn, arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=arn)["events"]


WAIT = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 2, "End": True}}}


def test_start_execution_is_idempotent_by_name_and_input_while_running(sfn, machine, wait_until):
    arn = machine(WAIT)
    first = sfn.start_execution(stateMachineArn=arn, name="order-1", input='{"id": 1}')
    time.sleep(0.2)
    again = sfn.start_execution(stateMachineArn=arn, name="order-1", input='{"id": 1}')
    assert (again["executionArn"], again["startDate"]) == (first["executionArn"], first["startDate"])
    with pytest.raises(ClientError) as e:  # same name, other input
        sfn.start_execution(stateMachineArn=arn, name="order-1", input='{"id": 2}')
    assert e.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    finished(sfn, wait_until, first["executionArn"])
    with pytest.raises(ClientError) as e:  # same name and input, closed
        sfn.start_execution(stateMachineArn=arn, name="order-1", input='{"id": 1}')
    assert e.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_express_start_sync_execution(sfn, machine, endpoint):
    # StartSyncExecution has the endpoint prefix "sync-": not resolvable for 127.0.0.1 (AWS SDK v3: disableHostPrefix)
    sfn = boto3.client(
        "stepfunctions", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(inject_host_prefix=False),
    )
    ok = machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"done": True}, "End": True}}}, "EXPRESS")
    out = sfn.start_sync_execution(stateMachineArn=ok, input="{}")
    assert out["status"] == "SUCCEEDED" and json.loads(out["output"]) == {"done": True}
    bad = machine({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "why"}}}, "EXPRESS", "-f")
    out = sfn.start_sync_execution(stateMachineArn=bad, input="{}")
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "Boom", "why")
    standard = machine(WAIT, suffix="-std")
    with pytest.raises(ClientError) as e:
        sfn.start_sync_execution(stateMachineArn=standard, input="{}")
    assert e.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def _callback_machine(queue_url: str, **task) -> dict:
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "Catch": [
                    {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"},
                    {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "TaskFailed"},
                ],
                "End": True,
                **task,
            },
            "TimedOut": {"Type": "Pass", "Result": "timed-out", "ResultPath": "$.branch", "End": True},
            "TaskFailed": {"Type": "Pass", "Result": "task-failed", "ResultPath": "$.branch", "End": True},
        },
    }


def test_wait_for_task_token_success_heartbeat_failure_and_timeouts(sfn, machine, aws_client, unique_name, wait_until):
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName=f"{unique_name}-tokens")["QueueUrl"]
    try:
        arn = machine(_callback_machine(url, TimeoutSeconds=4, HeartbeatSeconds=2))

        def start():
            ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
            msgs = wait_until(
                lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=15,
                message="task token message",
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
            return ex, json.loads(msgs[0]["Body"])["token"]

        ex, token = start()  # heartbeats keep it alive past HeartbeatSeconds, then success
        for _ in range(2):
            time.sleep(1.2)
            sfn.send_task_heartbeat(taskToken=token)
        sfn.send_task_success(taskToken=token, output='{"paid": true}')
        d = finished(sfn, wait_until, ex)
        assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"paid": True}

        ex, token = start()  # SendTaskFailure: caught by States.TaskFailed
        sfn.send_task_failure(taskToken=token, error="Payment.Declined", cause="card")
        d = finished(sfn, wait_until, ex)
        assert json.loads(d["output"])["branch"] == "task-failed"
        assert json.loads(d["output"])["error"] == {"Error": "Payment.Declined", "Cause": "card"}

        ex, _ = start()  # no heartbeat: after HeartbeatSeconds (2 s), not TimeoutSeconds (4 s), the task times
        t0 = time.monotonic()  # out with States.Timeout (AWS: "... or failed to send a heartbeat for a period
        d = finished(sfn, wait_until, ex)  # longer than the HeartbeatSeconds value"), not a States.TaskFailed
        assert 1.5 < time.monotonic() - t0 < 3.5
        out = json.loads(d["output"])
        assert (out["error"]["Error"], out["branch"]) == ("States.Timeout", "timed-out")

        timeout_only = machine(_callback_machine(url, TimeoutSeconds=2), suffix="-t")
        ex = sfn.start_execution(stateMachineArn=timeout_only, input="{}")["executionArn"]
        d = finished(sfn, wait_until, ex)
        out = json.loads(d["output"])
        assert (out["error"]["Error"], out["branch"]) == ("States.Timeout", "timed-out")
        late = (sfn.send_task_success, {"output": "{}"}), (sfn.send_task_heartbeat, {})
        for call, kwargs in late:  # the token of a closed task (its execution is closed too)
            with pytest.raises(ClientError) as e:
                call(taskToken=token, **kwargs)
            assert e.value.response["Error"]["Code"] == "TaskTimedOut"
        with pytest.raises(ClientError) as e:
            sfn.send_task_failure(taskToken="not-a-token", error="x")
        assert e.value.response["Error"]["Code"] == "InvalidToken"
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_lambda_task_retry_backoff_capped_by_max_delay_then_catch_all(sfn, machine, flaky_fn, wait_until):
    """Retry IntervalSeconds 1, BackoffRate 2, MaxDelaySeconds 1: waits 1, 1, 1 s (not 1, 2, 4); a fourth failure
    exhausts MaxAttempts 3 and Catch States.ALL takes it."""
    call = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": flaky_fn, "Payload.$": "$"},
        "ResultSelector": {"result.$": "$.Payload"},
        "Retry": [
            {"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 3, "MaxDelaySeconds": 1}
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensate"}],
        "End": True,
    }
    arn = machine({"StartAt": "Call", "States": {"Call": call, "Compensate": {"Type": "Pass", "End": True}}})
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"key": f"k{time.time()}", "failures": 3}))["executionArn"]
    d = finished(sfn, wait_until, ex)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"])["result"]["attempts"] == 4
    starts = [e["timestamp"] for e in history(sfn, ex) if e["type"] == "TaskScheduled"]
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
    assert len(gaps) == 3 and all(0.9 <= g < 2.0 for g in gaps), gaps  # uncapped: 1, 2, 4 s + invoke time

    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"key": f"k{time.time()}", "failures": 9}))["executionArn"]
    d = finished(sfn, wait_until, ex)
    error = json.loads(d["output"])["error"]
    assert d["status"] == "SUCCEEDED" and error["Error"] == "TransientError"
    assert json.loads(error["Cause"])["errorMessage"] == "attempt 4"


def test_redrive_execution_reruns_from_the_failed_state(sfn, machine, flaky_fn, wait_until):
    """A FAILED standard execution redriven: the states that succeeded are not re-run, the failed state runs again
    with its original input, the execution keeps its ARN and counts the redrive."""
    arn = machine(
        {
            "StartAt": "Prepare",
            "States": {
                "Prepare": {"Type": "Pass", "Result": "prepared", "ResultPath": "$.prepared", "Next": "Call"},
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": flaky_fn, "Payload.$": "$"},
                    "ResultSelector": {"result.$": "$.Payload"},
                    "ResultPath": "$.call",
                    "End": True,
                },
            },
        }
    )
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"key": f"r{time.time()}", "failures": 1}))["executionArn"]
    d = finished(sfn, wait_until, ex)
    assert d["status"] == "FAILED" and d["error"] == "TransientError"
    assert d.get("redriveCount", 0) == 0 and d["redriveStatus"] == "REDRIVABLE"
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=arn, name=ex.rsplit(":", 1)[-1], input="{}")
    assert e.value.response["Error"]["Code"] == "ExecutionAlreadyExists"

    redriven = sfn.redrive_execution(executionArn=ex)
    assert redriven["redriveDate"] >= d["stopDate"]
    d = finished(sfn, wait_until, ex)
    assert d["status"] == "SUCCEEDED" and d["redriveCount"] == 1
    out = json.loads(d["output"])
    assert out["prepared"] == "prepared" and out["call"]["result"]["attempts"] == 2
    events = history(sfn, ex)
    assert [e["type"] for e in events].count("ExecutionRedriven") == 1
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered == ["Prepare", "Call", "Call"]  # Prepare is not re-run
    with pytest.raises(ClientError) as e:  # a SUCCEEDED execution cannot be redriven
        sfn.redrive_execution(executionArn=ex)
    assert e.value.response["Error"]["Code"] == "ExecutionNotRedrivable"


def test_jsonata_runs_on_the_local_jdk(sfn, machine, wait_until):
    """QueryLanguage JSONata (a JVM in LocalStack's process): scripts/localstack.sh points LocalStack's Java 21 at a
    local JDK >= 21; the first run also fetches the JSONata jars (Maven Central) once per state dir."""
    arn = machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Pass",
                    "Output": "{% {'sum': $sum($states.input.n), 'up': $uppercase($states.input.s)} %}",
                    "End": True,
                }
            },
        }
    )
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": [1, 2, 3], "s": "ab"}))["executionArn"]
    d = finished(sfn, wait_until, ex, timeout=60)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"sum": 6, "up": "AB"}
