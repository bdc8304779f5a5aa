"""T12: moto has no locking; the provider serialises DynamoDB/Streams calls with one lock.

To see these tests fail, start LocalStack with CMP_DDB_MOTO_UNSAFE_NO_LOCK=1 (test-only switch).
Tunables: DDB_RACE_WRITERS (default 32), DDB_RACE_ROUNDS (default 12), DDB_RACE_WIDE_ATTRS (default 120).
moto checks the item size on every attribute insert (O(n^2) in the attribute count, between its read and its
write of the item): the "wide" variant uses that to widen the race window so it shows without the lock.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from test_ddb_helpers import client, create_table, require_localstack

WRITERS = int(os.environ.get("DDB_RACE_WRITERS", "32"))
ROUNDS = int(os.environ.get("DDB_RACE_ROUNDS", "12"))
WIDE_ATTRS = int(os.environ.get("DDB_RACE_WIDE_ATTRS", "120"))


@pytest.fixture(scope="module")
def race_table():
    require_localstack()
    ddb = client("dynamodb")
    name = create_table(ddb, stream="NEW_AND_OLD_IMAGES")["TableName"]
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def writer_clients():
    # one client per writer: a botocore client is thread-safe, but separate clients also mean separate
    # connections, i.e. truly parallel requests on the gateway
    return [client("dynamodb") for _ in range(WRITERS)]


def _run_parallel(fns):
    barrier = threading.Barrier(len(fns))

    def run(fn):
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(max_workers=len(fns)) as pool:
        return list(pool.map(run, fns))


@pytest.mark.parametrize(
    "wide",
    [False, True],
    ids=["plain-item", "wide-item"],  # wide: WIDE_ATTRS attributes + 10-clause condition -> wider check-then-set window
)
def test_concurrent_conditional_puts_exactly_one_wins(race_table, writer_clients, wide):
    extra = {f"a{i}": {"S": "x" * 20} for i in range(WIDE_ATTRS)} if wide else {}
    clauses = ["attribute_not_exists(pk)"] + ([f"attribute_not_exists(#n{i})" for i in range(10)] if wide else [])
    names = {f"#n{i}": f"a{i}" for i in range(10)} if wide else None
    per_round = []
    for rnd in range(ROUNDS):
        key = f"race-{'wide' if wide else 'plain'}-{rnd}"

        def put(i, c):
            def call():
                params = dict(
                    TableName=race_table,
                    Item={"pk": {"S": key}, "writer": {"N": str(i)}, **extra},
                    ConditionExpression=" AND ".join(clauses),
                )
                if names:
                    params["ExpressionAttributeNames"] = names
                try:
                    c.put_item(**params)
                    return "ok"
                except ClientError as e:
                    return e.response["Error"]["Code"]

            return call

        results = _run_parallel([put(i, c) for i, c in enumerate(writer_clients)])
        assert set(results) <= {"ok", "ConditionalCheckFailedException"}, results
        per_round.append(results.count("ok"))
    print(f"\nconditional puts ({'wide' if wide else 'plain'} item), successes per round ({WRITERS} writers): {per_round}")
    assert per_round == [1] * ROUNDS, f"rounds with != 1 winner: {per_round}"
    # and the stored item is the winner's, complete
    item = writer_clients[0].get_item(TableName=race_table, Key={"pk": {"S": key}}, ConsistentRead=True)["Item"]
    assert len(item) == 2 + len(extra)


def test_concurrent_counter_updates_lose_nothing(race_table, writer_clients):
    """read-modify-write inside moto (SET n = n + 1): without the lock increments get lost."""
    ddb = writer_clients[0]
    key = {"pk": {"S": "counter"}}
    ddb.put_item(TableName=race_table, Item={**key, "n": {"N": "0"}})
    per_writer = 5

    def inc(c):
        def call():
            for _ in range(per_writer):
                c.update_item(
                    TableName=race_table,
                    Key=key,
                    UpdateExpression="SET n = n + :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )

        return call

    _run_parallel([inc(c) for c in writer_clients])
    final = int(ddb.get_item(TableName=race_table, Key=key, ConsistentRead=True)["Item"]["n"]["N"])
    print(f"\ncounter after {WRITERS}x{per_writer} increments: {final}")
    assert final == WRITERS * per_writer


def test_concurrent_writers_and_stream_reader_see_every_record(race_table, writer_clients):
    """the stream keeps one record per write, with unique, gap-free sequence numbers"""
    streams = client("dynamodbstreams")
    ddb = writer_clients[0]
    arn = ddb.describe_table(TableName=race_table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

    def put(i, c):
        return lambda: c.put_item(TableName=race_table, Item={"pk": {"S": f"s-{i}"}})

    _run_parallel([put(i, c) for i, c in enumerate(writer_clients)])
    records = []
    while True:
        resp = streams.get_records(ShardIterator=it)
        if not resp["Records"]:
            break
        records += resp["Records"]
        it = resp["NextShardIterator"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(records) == WRITERS
    assert sorted({r["dynamodb"]["Keys"]["pk"]["S"] for r in records}) == sorted(f"s-{i}" for i in range(WRITERS))
    assert seqs == list(range(seqs[0], seqs[0] + WRITERS))
