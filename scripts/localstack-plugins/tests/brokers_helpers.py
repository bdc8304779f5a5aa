"""Shared by the broker tests (test_brokers_*.py): the local brokers of scripts/brokers.sh, CloudFormation stacks,
a Node.js function that records every event it gets in an SQS queue (and fails on "poison"), reading that queue.

Needs a LocalStack started by `bash scripts/localstack.sh start` and the brokers by `bash scripts/brokers.sh start`
(same ports in both: the CMP_* variables of `scripts/brokers.sh env`).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
USER = os.environ.get("CMP_BROKERS_USER", "cmp")
PASSWORD = os.environ.get("CMP_BROKERS_PASSWORD", "cmp-secret")
KAFKA = os.environ.get("CMP_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
KAFKA_SASL = os.environ.get("CMP_KAFKA_SASL_SCRAM_BOOTSTRAP", "127.0.0.1:9096")
RABBITMQ = os.environ.get("CMP_RABBITMQ_AMQP", "amqp://127.0.0.1:5672")
ACTIVEMQ_STOMP = os.environ.get("CMP_ACTIVEMQ_STOMP", "stomp://127.0.0.1:61613")


def host_port(address: str) -> tuple[str, int]:
    host, port = address.split("://")[-1].rsplit(":", 1)
    return host, int(port)


def require_broker(address: str, name: str) -> None:
    try:
        socket.create_connection(host_port(address), timeout=2).close()
    except OSError:
        # a failure, not a skip: the brokers belong to the test environment (scripts/test.sh starts them)
        pytest.fail(f"{name} is not reachable at {address}; start the brokers: bash scripts/brokers.sh start")


# A function that sends every event it gets to the SQS queue $SINK, then throws when a record's payload contains
# "poison" -- or, with FAIL_MODE=partial, reports those Kafka records as batchItemFailures.
FUNCTION_CODE = r"""
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({});
const kafkaRecords = (e) => Object.entries(e.records || {}).flatMap(([key, rs]) => rs.map((r) => ({ key, r })));
const payloads = (e) => [
  ...kafkaRecords(e).map(({ r }) => r.value),
  ...Object.values(e.rmqMessagesByQueue || {}).flat().map((m) => m.data),
  ...(e.messages || []).map((m) => m.data),
].map((b64) => Buffer.from(b64 || '', 'base64').toString());
exports.handler = async (event) => {
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.SINK, MessageBody: JSON.stringify(event) }));
  if (process.env.FAIL_MODE === 'partial') {
    const failed = kafkaRecords(event).filter(({ r }) => Buffer.from(r.value, 'base64').toString().includes('poison'));
    return { batchItemFailures: failed.map(({ key, r }) => ({ itemIdentifier: { partition: key, offset: r.offset } })) };
  }
  if (payloads(event).some((p) => p.includes('poison'))) throw new Error('poison record');
  return {};
};
"""


def function_resources(env: dict | None = None) -> dict:
    """A sink queue and the recording function (logical ids Sink, Fn)."""
    return {
        "Sink": {"Type": "AWS::SQS::Queue"},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "nodejs22.x",
                "Handler": "index.handler",
                "Role": ROLE,
                "Timeout": 10,
                "Code": {"ZipFile": FUNCTION_CODE},
                "Environment": {"Variables": {"SINK": {"Ref": "Sink"}, **(env or {})}},
            },
        },
    }


def secret_resource(username: str = USER, password: str = PASSWORD, name: str | None = None) -> dict:
    props = {"SecretString": json.dumps({"username": username, "password": password})}
    if name:
        props["Name"] = name
    return {"Type": "AWS::SecretsManager::Secret", "Properties": props}


# ---------------------------------------------------------------------------------------------------------------
# CloudFormation


def wait_stack(cfn, name: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith(("_COMPLETE", "_FAILED")) and "IN_PROGRESS" not in status:
            return stack
        assert time.monotonic() < deadline, f"stack {name} stuck in {status}"
        time.sleep(0.5)


def deploy(cfn, name: str, template: dict) -> dict:
    """Create the stack, wait for CREATE_COMPLETE, return its outputs."""
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = wait_stack(cfn, name)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        failures = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in events if "FAILED" in e["ResourceStatus"]]
        pytest.fail(f"stack {name} is {stack['StackStatus']}: {failures}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def delete(cfn, name: str) -> None:
    cfn.delete_stack(StackName=name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] in ("DELETE_COMPLETE", "DELETE_FAILED"):
                return
        except ClientError:
            return
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------------------------------
# what the function got


def receive(sqs, queue_url: str, count: int, timeout: float = 60) -> list[dict]:
    """At least ``count`` messages of the queue (JSON bodies), in arrival order; fails after ``timeout``."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"timed out after {timeout}s: {len(got)} of {count} messages: {got}"
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in response.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return got


def quiet(sqs, queue_url: str, seconds: float) -> list[dict]:
    """Whatever arrives in the queue within ``seconds``."""
    got: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in response.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return got


def b64decode(value: str) -> bytes:
    return base64.b64decode(value)


def wait_esm_enabled(lam, uuid: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled":
        assert time.monotonic() < deadline, f"mapping {uuid} not Enabled"
        time.sleep(0.3)
