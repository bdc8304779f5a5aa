"""Patches of LocalStack 4.13.1's stream event source mappings (Kinesis and DynamoDB Streams, ESM v2 in
``localstack/services/lambda_/event_source_mapping/``), applied once at start by ``plugin.py``.

1. ``StreamPoller.forward_events_to_target`` (replaced): how a polled batch is filtered, invoked, retried and
   discarded, as AWS's Lambda does it:
   - ``BisectBatchOnFunctionError``: a batch of more than one record whose invocation fails with a function
     error is split in two halves (the first one gets the extra record of an odd batch) and each half is
     processed in stream order, the second after the first is done (succeeded or discarded). A split is not a
     retry: each half starts with its own attempt count ("Splitting a batch does not count towards the retry
     quota", AWS Lambda developer guide, Kinesis/DynamoDB "Error handling"); only a batch of one record is
     retried as such, so a poison record ends up alone, is retried ``MaximumRetryAttempts`` times and goes to
     the on-failure destination while the other records of its batch are processed. LocalStack stores the
     flag and ignores it.
   - ``ReportBatchItemFailures``: the checkpoint is the lowest reported sequence number; the records before
     it are done, the rest is retried (that is a retry of the batch, counted). An identifier that is not in
     the batch, an empty or null one, or an unparsable response fails the whole batch (AWS's "complete
     failure" cases). With bisection on, a partial failure is not bisected further ("the batch is bisected at
     the returned sequence number and Lambda retries only the remaining records").
   - ``MaximumRetryAttempts`` (-1 = until the record expires) counts invocations that reached the function: a
     throttle or an invoke that fails before the function runs is retried (with backoff) until the records
     expire, uncounted ("If the function is throttled or the Lambda service returns an error without invoking
     the function, Lambda retries until the records expire"; LocalStack counted it, so a throttled batch went
     to the destination after ``MaximumRetryAttempts`` throttles).
   - ``MaximumRecordAgeInSeconds``: expired records are discarded as ``RecordAgeExceeded`` before each
     invocation, and a backoff between retries ends when the oldest record expires; the others go on
     (LocalStack replaced a batch that had exhausted its retries by its expired records, and sent only those,
     and discarded only after its backoff of up to 60 s).
   - On-failure destination (SQS, SNS, S3 by LocalStack's own ``send_events_to_dlq``): one document per
     discarded (sub-)batch with ``requestContext`` (``requestId`` of the last invocation, ``functionArn``,
     ``condition``, ``approximateInvokeCount`` = invocations of that batch), ``responseContext``
     (``statusCode``, ``executedVersion``, ``functionError`` when the function failed; absent when the batch
     was never invoked: LocalStack sent no contexts at all for ``RecordAgeExceeded``), the
     ``KinesisBatchInfo``/``DDBStreamBatchInfo`` of LocalStack, ``timestamp``, ``version``.
   - ``FilterCriteria`` on Kinesis ``data``: matched against the base64-decoded JSON (non-JSON records are
     dropped, as AWS), but the function gets the record's original bytes: LocalStack re-encoded matching
     records with Python's ``json.dumps`` (``{"a":1}`` arrived as ``{"a": 1}``).
2. ``DynamoDBPoller.get_approximate_arrival_time``: the record's ``ApproximateCreationDateTime`` (LocalStack
   read a key ``"todo"`` and fell back to *now*: DynamoDB records never expired).
3. ``ParallelizationFactor`` n > 1: the records of a poll are split into n lanes by a hash of the partition key
   (Kinesis) or of the item's keys (DynamoDB), and the lanes are delivered concurrently, each in order, with its
   own retries and bisection: up to n invocations per shard at a time, order kept per key (AWS: "Lambda still
   ensures in-order processing at the partition-key level"). Unlike AWS, the next poll of the shard waits for
   all lanes, so a lane that retries holds the others back. LocalStack ran one batch per shard at a time.
4. ``EsmWorkerFactory.get_esm_worker`` (wrapped): hands the poller the ``BisectBatchOnFunctionError`` flag and the
   ``ParallelizationFactor``.
A Kinesis consumer ARN (enhanced fan-out) as source needs no patch: kinesis-mock answers DescribeStream,
GetShardIterator and GetRecords for a consumer ARN as for its stream.

Not emulated: ``TumblingWindowInSeconds`` (stored, ignored): see ``NOTES-streams-sfn.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from cmp_localstack import ls_shapes

LOG = logging.getLogger(__name__)

_ESM = "localstack.services.lambda_.event_source_mapping"
# what the patches were written for (LocalStack 4.13.1): see cmp_localstack/ls_shapes.py
EXPECTED_SHAPES = {
    f"{_ESM}.pollers.stream_poller:StreamPoller.forward_events_to_target": "2b5815c0322ea121",
    f"{_ESM}.pollers.stream_poller:StreamPoller.send_events_to_dlq": "9f5340609e4c40f6",
    f"{_ESM}.pollers.stream_poller:StreamPoller.bisect_events": "879385178b8f3c4c",
    f"{_ESM}.pollers.stream_poller:StreamPoller.bisect_events_by_record_age": "04d93c90c46b55a7",
    f"{_ESM}.pollers.stream_poller:StreamPoller.max_retries_exceeded": "5f343cc640386819",
    f"{_ESM}.pollers.kinesis_poller:KinesisPoller.pre_filter": "d8b5d41ac15774e1",
    f"{_ESM}.pollers.dynamodb_poller:DynamoDBPoller.get_approximate_arrival_time": "e139a2a2db1ab652",
    f"{_ESM}.pollers.dynamodb_poller:DynamoDBPoller.transform_into_events": "a19a8f0b87522dd2",
    f"{_ESM}.senders.lambda_sender:LambdaSender.send_events": "ef947a154712188c",
    f"{_ESM}.esm_worker_factory:EsmWorkerFactory.get_esm_worker": "ee6a260d2b77642f",
}

_lock = threading.Lock()


def _failure_context(poller, condition: str, error: dict, attempts: int) -> dict:
    request = {
        "requestId": error.get("requestId") or str(uuid.uuid4()),
        "functionArn": getattr(getattr(poller.processor, "sender", None), "target_arn", None),
        "condition": condition,
        "approximateInvokeCount": attempts,
    }
    context = {"requestContext": request}
    if error:  # the batch reached the function
        response = {
            "statusCode": error.get("httpStatusCode"),
            "executedVersion": error.get("executedVersion"),
            "functionError": error.get("functionError"),
        }
        context["responseContext"] = {k: v for k, v in response.items() if v is not None}
    return context


def _matching(poller, events: list[dict]) -> list[dict]:
    """The events that match the FilterCriteria, unchanged (see 1. in the module docstring)."""
    from localstack.services.lambda_.event_source_mapping.pollers.kinesis_poller import (
        KinesisPoller,
        has_data_filter_criteria_parsed,
    )

    if not poller.filter_patterns:
        return events
    if isinstance(poller, KinesisPoller) and has_data_filter_criteria_parsed(poller.filter_patterns):
        # pre_filter([e]) is the filter's view of e (data decoded), or [] when data is not JSON
        return [e for e in events if poller.filter_events(poller.pre_filter([e]))]
    return poller.filter_events(events)


def _deliver(poller, shard_id: str, events: list[dict]) -> None:
    """Invoke with ``events`` until done; retries, bisection and discards as AWS (see the module docstring)."""
    from localstack.services.lambda_.event_source_mapping.event_processor import (
        BatchFailureError,
        PartialBatchFailureError,
    )
    from localstack.services.lambda_.event_source_mapping.pollers.poller import get_batch_item_failures
    from localstack.utils.backoff import ExponentialBackoff

    params = poller.stream_parameters
    max_age = max(params.get("MaximumRecordAgeInSeconds", -1), 0)
    boff = ExponentialBackoff()
    # attempts: invocations that reached the function (what MaximumRetryAttempts counts); tries: all of them
    attempts, tries, error = 0, 0, {}

    def discard(batch, condition):
        context = _failure_context(poller, condition, error, attempts)
        poller.send_events_to_dlq(shard_id, batch, context=context)

    while events and not poller._is_shutdown.is_set():
        if max_age:
            events, expired = poller.bisect_events_by_record_age(max_age, events)
            if expired:
                discard(expired, "RecordAgeExceeded")
                continue
        if poller.max_retries_exceeded(attempts):
            discard(events, "RetryAttemptsExhausted")
            return
        if tries:
            pause = boff.next_backoff()
            if max_age:  # wake up when the oldest record expires, not after a backoff of up to 60 s
                oldest = poller.get_approximate_arrival_time(events[0])
                pause = min(pause, max(0.0, oldest + max_age - time.time()))
            poller._is_shutdown.wait(pause)
        tries += 1
        try:
            poller.processor.process_events_batch(events)
            return
        except PartialBatchFailureError as e:
            attempts += 1
            error = e.error
            ids = {poller.get_sequence_number(ev) for ev in events}
            failed = get_batch_item_failures(e.partial_failure_payload, ids)
            if failed:  # None: the response fails the whole batch
                _, events = poller.bisect_events(min(failed, key=int), events)
        except BatchFailureError as e:
            attempts += 1
            error = e.error
            if getattr(poller, "cmp_bisect", False) and len(events) > 1:
                half = (len(events) + 1) // 2
                _deliver(poller, shard_id, events[:half])
                _deliver(poller, shard_id, events[half:])
                return
        except Exception as e:  # noqa: BLE001 - throttled, or the invoke failed before it reached the function
            LOG.warning("stream ESM %s: invoke failed (%s); retrying, not counted as a retry", poller.source_arn, e)


def _lanes(poller, events: list[dict]) -> list[list[dict]]:
    """``ParallelizationFactor`` n: the events split into at most n lanes by a hash of the partition key (Kinesis)
    or of the item's keys (DynamoDB), each in stream order."""
    factor = getattr(poller, "cmp_parallelization", 1)
    if factor <= 1:
        return [events]
    lanes: dict[int, list[dict]] = {}
    for e in events:
        key = e["kinesis"]["partitionKey"] if "kinesis" in e else json.dumps(e["dynamodb"]["Keys"], sort_keys=True)
        lanes.setdefault(int(hashlib.md5(key.encode()).hexdigest(), 16) % factor, []).append(e)
    return list(lanes.values())


def forward_events_to_target(self, shard_id, records):
    events = _matching(self, self.transform_into_events(records, shard_id))
    if not events:
        return
    lanes = _lanes(self, self.add_source_metadata(events))
    if len(lanes) == 1:
        _deliver(self, shard_id, lanes[0])
        return
    with ThreadPoolExecutor(len(lanes), thread_name_prefix="cmp-esm-lane") as pool:
        list(pool.map(lambda lane: _deliver(self, shard_id, lane), lanes))


def ddb_arrival_time(self, record: dict) -> float:
    from localstack.services.lambda_.event_source_mapping.pipe_utils import get_current_time

    created = record["dynamodb"].get("ApproximateCreationDateTime")  # a float after transform_into_events
    return float(created) if created is not None else get_current_time().timestamp()


def apply() -> None:
    from localstack.services.lambda_.event_source_mapping import esm_worker_factory
    from localstack.services.lambda_.event_source_mapping.pollers.dynamodb_poller import DynamoDBPoller
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import StreamPoller

    with _lock:
        if ls_shapes.is_patched(StreamPoller.forward_events_to_target):
            return
        ls_shapes.require(EXPECTED_SHAPES, "cmp stream ESM patches")

        StreamPoller.forward_events_to_target = ls_shapes.mark(
            forward_events_to_target, StreamPoller.forward_events_to_target
        )
        DynamoDBPoller.get_approximate_arrival_time = ls_shapes.mark(
            ddb_arrival_time, DynamoDBPoller.get_approximate_arrival_time
        )

        factory = esm_worker_factory.EsmWorkerFactory
        orig_get_worker = factory.get_esm_worker

        def get_esm_worker(self):
            worker = orig_get_worker(self)
            poller = worker.poller
            if isinstance(poller, StreamPoller):
                poller.cmp_bisect = bool(self.esm_config.get("BisectBatchOnFunctionError"))
                poller.cmp_parallelization = int(self.esm_config.get("ParallelizationFactor") or 1)
            return worker

        factory.get_esm_worker = ls_shapes.mark(get_esm_worker, orig_get_worker)

        LOG.info("cmp stream ESM patches applied (bisection, parallelization, record age, failure records)")
