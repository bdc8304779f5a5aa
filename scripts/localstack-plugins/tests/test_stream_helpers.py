"""Shared helpers for the test_stream_esm* suites (no tests in here): a Node.js function that reports every batch
it gets to an SQS queue, Kinesis streams, DynamoDB tables with streams, event source mappings, SQS reads.

The function (``HANDLER_JS``) notes ``{label, items, t}`` per invocation, ``items`` being each record's body
(Kinesis: the decoded data; DynamoDB: ``NewImage.pk.S`` or ``Keys.pk.S``). A batch with an item containing
``poison`` throws (function error) after noting ``failed: true``; items starting with ``fail`` are reported as
``batchItemFailures`` (by sequence number); a batch with an item starting with ``slow`` takes 1 s (``t`` is the
start, ``end`` the end of the invocation).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from test_lambda_process import ROLE, RUNTIME, make_zip, wait_active

HANDLER_JS = r"""
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({});
const body = (r) => (r.kinesis ? Buffer.from(r.kinesis.data, 'base64').toString('utf8') : (r.dynamodb.NewImage || r.dynamodb.Keys).pk.S);
const seq = (r) => (r.kinesis ? r.kinesis.sequenceNumber : r.dynamodb.SequenceNumber);
exports.handler = async (event) => {
  const t = Date.now();
  const items = event.Records.map(body);
  const failed = items.some((b) => b.includes('poison'));
  if (items.some((b) => b.startsWith('slow'))) await new Promise((r) => setTimeout(r, 1000));
  const note = { label: process.env.LABEL, items, failed, t, end: Date.now(), records: event.Records };
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.OBS_URL, MessageBody: JSON.stringify(note) }));
  if (failed) throw new Error('poison record in the batch');
  return { batchItemFailures: event.Records.filter((r) => body(r).startsWith('fail')).map((r) => ({ itemIdentifier: seq(r) })) };
};
"""
CODE = make_zip({"index.js": HANDLER_JS})


def read_queue(sqs, url: str, seen: list[dict]) -> list[dict]:
    """Drain ``url`` into ``seen`` (JSON bodies) and return a copy."""
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            return list(seen)
        for m in msgs:
            seen.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


class Env:
    """Creates resources for one test and deletes them afterwards."""

    def __init__(self, aws_client, wait_until, name: str):
        self.lam, self.sqs = aws_client("lambda"), aws_client("sqs")
        self.kinesis, self.ddb = aws_client("kinesis"), aws_client("dynamodb")
        self.wait_until, self.name = wait_until, name
        self.cleanup: list = []
        self.obs_url = self.queue("obs")
        self._seen: list[dict] = []

    def queue(self, suffix: str) -> str:
        url = self.sqs.create_queue(QueueName=f"{self.name}-{suffix}")["QueueUrl"]
        self.cleanup.append(lambda: self.sqs.delete_queue(QueueUrl=url))
        return url

    def queue_arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def function(self, label: str) -> str:
        name = f"{self.name}-{label}"
        self.lam.create_function(
            FunctionName=name, Runtime=RUNTIME, Handler="index.handler", Role=ROLE, Code={"ZipFile": CODE},
            Timeout=10, Environment={"Variables": {"OBS_URL": self.obs_url, "LABEL": label}},
        )
        self.cleanup.append(lambda: self.lam.delete_function(FunctionName=name))
        wait_active(self.lam, [name], self.wait_until)
        return name

    def stream(self, suffix: str = "s") -> str:
        name = f"{self.name}-{suffix}"
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        self.cleanup.append(lambda: self.kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True))
        self.wait_until(
            lambda: self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
            == "ACTIVE",
            timeout=30, message=f"stream {name} ACTIVE",
        )
        return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def put(self, stream_arn: str, *data: str, key=lambda d: "pk") -> list[str]:
        """One PutRecord each, in order (partition key ``key(data)``); returns the sequence numbers."""
        return [
            self.kinesis.put_record(StreamARN=stream_arn, Data=d.encode(), PartitionKey=key(d))["SequenceNumber"]
            for d in data
        ]

    def table(self, suffix: str = "t") -> tuple[str, str]:
        name = f"{self.name}-{suffix}"
        desc = self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        self.cleanup.append(lambda: self.ddb.delete_table(TableName=name))
        return name, desc["LatestStreamArn"]

    def mapping(self, function: str, source_arn: str, **kwargs) -> str:
        kwargs.setdefault("StartingPosition", "TRIM_HORIZON")
        kwargs.setdefault("BatchSize", 10)
        uuid_ = self.lam.create_event_source_mapping(EventSourceArn=source_arn, FunctionName=function, **kwargs)["UUID"]
        self.cleanup.append(lambda: self.lam.delete_event_source_mapping(UUID=uuid_))
        self.wait_until(
            lambda: self.lam.get_event_source_mapping(UUID=uuid_)["State"] == "Enabled",
            timeout=30, message="event source mapping Enabled",
        )
        return uuid_

    def notes(self, label: str | None = None) -> list[dict]:
        """What the function noted so far, in invocation order."""
        seen = read_queue(self.sqs, self.obs_url, self._seen)
        return sorted((n for n in seen if label is None or n["label"] == label), key=lambda n: n["t"])

    def close(self):
        for fn in reversed(self.cleanup):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass


@pytest.fixture
def env(aws_client, wait_until, unique_name):
    e = Env(aws_client, wait_until, unique_name[:50] + uuid.uuid4().hex[:4])
    yield e
    e.close()


def wait_quiet(env: Env, label: str, count: int, timeout: float = 40.0, settle: float = 2.5) -> list[dict]:
    """Wait until ``label`` has at least ``count`` invocations and no new one for ``settle`` seconds."""
    deadline, last, last_change = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        notes = env.notes(label)
        if len(notes) != last:
            last, last_change = len(notes), time.monotonic()
        elif len(notes) >= count and time.monotonic() - last_change >= settle:
            return notes
        time.sleep(0.3)
    pytest.fail(f"{label}: expected >= {count} quiet invocations, got {[n['items'] for n in env.notes(label)]}")
