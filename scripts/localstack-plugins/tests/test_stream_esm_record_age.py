"""MaximumRecordAgeInSeconds on Kinesis and DynamoDB Streams mappings (cmp stream ESM patches): a record that
keeps failing with infinite retries is discarded once it is older than the limit (60 s, AWS's minimum), and
its failure record names the condition ``RecordAgeExceeded``. Both mappings run at once: ~70 s.

    .venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests/test_stream_esm_record_age.py -q
"""

from __future__ import annotations

import time

from test_stream_helpers import env, read_queue  # noqa: F401 (fixture)

MAX_AGE = 60


def test_records_older_than_the_maximum_age_go_to_the_destination(env):
    kfn, dfn = env.function("kage"), env.function("dage")
    stream = env.stream()
    table, ddb_stream = env.table()
    kdlq, ddlq = env.queue("kdlq"), env.queue("ddlq")
    t0 = time.time()
    [seq] = env.put(stream, "poison-k")
    env.ddb.put_item(TableName=table, Item={"pk": {"S": "poison-d"}})
    common = dict(MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=MAX_AGE)
    env.mapping(kfn, stream, DestinationConfig={"OnFailure": {"Destination": env.queue_arn(kdlq)}}, **common)
    env.mapping(dfn, ddb_stream, DestinationConfig={"OnFailure": {"Destination": env.queue_arn(ddlq)}}, **common)

    seen: dict[str, list] = {kdlq: [], ddlq: []}
    env.wait_until(
        lambda: all(read_queue(env.sqs, q, s) for q, s in seen.items()),
        timeout=MAX_AGE + 30, interval=1, message="RecordAgeExceeded failure records",
    )
    elapsed = time.time() - t0
    assert MAX_AGE - 2 <= elapsed, f"discarded after {elapsed:.0f} s, before the record was {MAX_AGE} s old"
    assert elapsed < MAX_AGE + 12, f"discarded {elapsed:.0f} s after the write: not when the record expired"
    (krec,), (drec,) = seen[kdlq], seen[ddlq]
    for rec in (krec, drec):
        assert rec["requestContext"]["condition"] == "RecordAgeExceeded"
        assert rec["requestContext"]["approximateInvokeCount"] >= 2  # retried until then
        assert rec["responseContext"]["functionError"] == "Unhandled"
    assert krec["KinesisBatchInfo"]["startSequenceNumber"] == seq and krec["KinesisBatchInfo"]["batchSize"] == 1
    assert drec["DDBStreamBatchInfo"]["streamArn"] == ddb_stream and drec["DDBStreamBatchInfo"]["batchSize"] == 1
    # the shards are free again: later records are delivered
    env.put(stream, "later")
    env.wait_until(
        lambda: any(n["items"] == ["later"] for n in env.notes("kage")), timeout=20, message="a later record delivered"
    )
