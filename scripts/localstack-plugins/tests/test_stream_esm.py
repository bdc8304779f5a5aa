"""Kinesis and DynamoDB Streams event source mappings through LocalStack with the cmp stream ESM patches
(``cmp_localstack/stream_esm``) and the process Lambda executor: what AWS's Lambda does with each setting.

    .venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests/test_stream_esm.py -q
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

from test_stream_helpers import env, read_queue, wait_quiet  # noqa: F401 (fixture)


def _dlq(env, url: str, count: int) -> list[dict]:
    seen: list[dict] = []
    return env.wait_until(
        lambda: len(read_queue(env.sqs, url, seen)) >= count and list(seen), timeout=40, message=f"{count} failure record(s)"
    )


def test_kinesis_bisect_isolates_the_poison_record(env):
    """6 records, the 4th poison, BisectBatchOnFunctionError, 1 retry: the batch is halved on each function error
    (splits are not retries), the healthy records are processed, the poison record alone is retried once and
    its failure record goes to the SQS on-failure destination."""
    fn = env.function("bisect")
    stream = env.stream()
    dlq = env.queue("dlq")
    seqs = env.put(stream, "r0", "r1", "r2", "poison-r3", "r4", "r5")
    env.mapping(
        fn, stream, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": env.queue_arn(dlq)}},
    )
    notes = wait_quiet(env, "bisect", 8)
    batches = [(n["items"], n["failed"]) for n in notes]
    all6 = ["r0", "r1", "r2", "poison-r3", "r4", "r5"]
    assert batches == [
        (all6, True),
        (["r0", "r1", "r2"], False),
        (["poison-r3", "r4", "r5"], True),
        (["poison-r3", "r4"], True),
        (["poison-r3"], True),
        (["poison-r3"], True),  # the one retry of the batch of one
        (["r4"], False),
        (["r5"], False),
    ], batches
    [record] = _dlq(env, dlq, 1)
    info = record["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[3]
    assert info["streamArn"] == stream and info["shardId"].startswith("shardId-")
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(f":function:{fn}")
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")


def test_kinesis_report_batch_item_failures_checkpoints_and_retries(env):
    """ReportBatchItemFailures: retry from the lowest reported sequence number; after MaximumRetryAttempts (1)
    the rest of the batch goes to the destination as one batch (no functionError: the function succeeded)."""
    fn = env.function("partial")
    stream = env.stream()
    dlq = env.queue("dlq")
    seqs = env.put(stream, "a", "b", "fail-c", "d")
    env.mapping(
        fn, stream, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": env.queue_arn(dlq)}},
    )
    notes = wait_quiet(env, "partial", 2)
    assert [n["items"] for n in notes] == [["a", "b", "fail-c", "d"], ["fail-c", "d"]]
    [record] = _dlq(env, dlq, 1)
    info = record["KinesisBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"]) == (2, seqs[2], seqs[3])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}


def test_kinesis_throttled_invokes_are_not_retries(env):
    """A throttled invoke (reserved concurrency 0) did not reach the function: retried until the records expire,
    not counted against MaximumRetryAttempts (0 here), so the record is delivered once the function can run."""
    fn = env.function("throttled")
    env.lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    stream = env.stream()
    dlq = env.queue("dlq")
    env.put(stream, "t1")
    env.mapping(fn, stream, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": env.queue_arn(dlq)}})
    time.sleep(4)
    assert env.notes("throttled") == [] and read_queue(env.sqs, dlq, []) == []
    env.lam.delete_function_concurrency(FunctionName=fn)
    [note] = wait_quiet(env, "throttled", 1)
    assert note["items"] == ["t1"] and read_queue(env.sqs, dlq, []) == []


def test_kinesis_data_filter_delivers_the_original_bytes(env):
    """FilterCriteria on ``data``: matched on the decoded JSON, non-JSON records dropped, and the function gets
    the record's bytes as written (LocalStack alone re-serialised them with json.dumps)."""
    fn = env.function("filter")
    stream = env.stream()
    keep = '{"type":"keep","n":1}'
    env.put(stream, '{"type":"drop"}', "not json", keep)
    env.mapping(fn, stream, FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"type": ["keep"]}})}]})
    [note] = wait_quiet(env, "filter", 1)
    assert note["items"] == [keep]
    assert base64.b64decode(note["records"][0]["kinesis"]["data"]).decode() == keep


def test_kinesis_starting_positions(env):
    """TRIM_HORIZON reads what was written before the mapping; LATEST only what comes after it started."""
    horizon, latest = env.function("horizon"), env.function("latest")
    stream = env.stream()
    env.put(stream, "before")
    env.mapping(horizon, stream)
    env.mapping(latest, stream, StartingPosition="LATEST")
    env.wait_until(lambda: env.notes("horizon"), timeout=30, message="TRIM_HORIZON delivery")
    # LATEST is fixed when the poller first reads the shard: write until one arrives
    for i in range(20):
        env.put(stream, f"after-{i}")
        time.sleep(1)
        if env.notes("latest"):
            break
    notes = wait_quiet(env, "latest", 1)
    items = [i for n in notes for i in n["items"]]
    assert items and "before" not in items and all(i.startswith("after-") for i in items), items
    assert [i for n in env.notes("horizon") for i in n["items"]][0] == "before"


def test_kinesis_mapping_on_a_consumer_arn_reads_the_stream(env):
    """An event source mapping on an enhanced fan-out consumer delivers the stream's records. (Which ARN AWS puts
    in eventSourceARN then, the stream's or the consumer's, is not asserted: not verified against AWS.)"""
    fn = env.function("efo")
    stream = env.stream()
    consumer = env.kinesis.register_stream_consumer(StreamARN=stream, ConsumerName="efo")["Consumer"]["ConsumerARN"]
    env.wait_until(
        lambda: env.kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"]
        == "ACTIVE",
        timeout=30, message="consumer ACTIVE",
    )
    env.put(stream, "via-consumer")
    uuid_ = env.mapping(fn, consumer)
    assert env.lam.get_event_source_mapping(UUID=uuid_)["EventSourceArn"] == consumer
    [note] = wait_quiet(env, "efo", 1)
    assert note["items"] == ["via-consumer"]
    assert note["records"][0]["eventSourceARN"].startswith(stream)


def test_kinesis_parallelization_factor_runs_keys_concurrently_in_order(env):
    """ParallelizationFactor 4: the records of one shard for four partition keys (in four different lanes) are
    processed by four concurrent invocations, each key's records in order."""
    lane = lambda k: int(hashlib.md5(k.encode()).hexdigest(), 16) % 4  # noqa: E731 - the plugin's lane hash
    keys = list({lane(k): k for k in (f"key{i}" for i in range(40))}.values())
    assert len(keys) == 4
    fn = env.function("parallel")
    stream = env.stream()
    env.put(stream, *[f"slow-{k}-{n}" for n in (1, 2) for k in keys], key=lambda d: d.split("-")[1])
    env.mapping(fn, stream, ParallelizationFactor=4)
    notes = wait_quiet(env, "parallel", 4)
    assert sorted(n["items"] for n in notes) == sorted([f"slow-{k}-1", f"slow-{k}-2"] for k in keys)
    assert max(n["t"] for n in notes) < min(n["end"] for n in notes), "the four 1 s invocations did not overlap"


def test_dynamodb_filter_on_event_name_and_new_image_prefix(env):
    """FilterCriteria on DynamoDB stream records: INSERTs whose NewImage.pk.S starts with order#."""
    fn = env.function("ddbfilter")
    table, stream = env.table()
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "order#"}]}}}}
    env.mapping(fn, stream, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    put = lambda pk, v="1": env.ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"S": v}})  # noqa: E731
    put("order#1")
    put("user#1")
    put("order#1", "2")  # MODIFY
    put("order#2")
    notes = wait_quiet(env, "ddbfilter", 1)
    assert [i for n in notes for i in n["items"]] == ["order#1", "order#2"]
    assert {r["eventName"] for n in notes for r in n["records"]} == {"INSERT"}


def test_dynamodb_bisect_with_no_retries(env):
    """DynamoDB Streams, BisectBatchOnFunctionError, MaximumRetryAttempts 0: halves are invoked even without
    retries; the poison record's failure record is a DDBStreamBatchInfo of one record."""
    fn = env.function("ddbbisect")
    table, stream = env.table()
    dlq = env.queue("dlq")
    for pk in ("k0", "poison-k1", "k2", "k3"):
        env.ddb.put_item(TableName=table, Item={"pk": {"S": pk}})
    env.mapping(
        fn, stream, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": env.queue_arn(dlq)}},
    )
    notes = wait_quiet(env, "ddbbisect", 5)
    assert [(n["items"], n["failed"]) for n in notes] == [
        (["k0", "poison-k1", "k2", "k3"], True),
        (["k0", "poison-k1"], True),
        (["k0"], False),
        (["poison-k1"], True),
        (["k2", "k3"], False),
    ]
    [record] = _dlq(env, dlq, 1)
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream
    assert info["startSequenceNumber"] == notes[3]["records"][0]["dynamodb"]["SequenceNumber"]
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
