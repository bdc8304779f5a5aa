"""T1-T11 (+T16 where community LocalStack allows): DynamoDB and DynamoDB Streams SDK calls on the gateway,
served by the dynamodb:moto / dynamodbstreams:moto providers."""

import datetime
import os
import time

import pytest
from botocore.exceptions import ClientError
from test_ddb_helpers import (
    ACCOUNT,
    REGION,
    client,
    create_table,
    ddb,  # noqa: F401 (fixture)
    drain,
    http,
    shard_iterator,
    table,  # noqa: F401 (fixture)
    unique,
)


@pytest.fixture(scope="module")
def streams():
    return client("dynamodbstreams")


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def S(v: str) -> dict:
    return {"S": v}


def N(v) -> dict:
    return {"N": str(v)}


# ---------------------------------------------------------------------------------------------------------
# T1 selection


def test_t1_providers_selected_and_loaded(ddb, streams):
    status, health = http("GET", "/_localstack/health")
    assert status == 200
    assert health["services"].get("dynamodb") in ("available", "running"), health
    assert health["services"].get("dynamodbstreams") in ("available", "running"), health

    ddb.list_tables(Limit=1)
    streams.list_streams(Limit=1)

    status, plugins = http("GET", "/_localstack/plugins")
    assert status == 200
    loaded = {p["name"]: p["is_loaded"] for p in plugins["localstack.aws.provider"]}
    assert loaded.get("dynamodb:moto") is True, loaded
    assert loaded.get("dynamodbstreams:moto") is True, loaded
    for other in ("dynamodb:default", "dynamodb:v2", "dynamodbstreams:default", "dynamodbstreams:v2"):
        assert loaded.get(other) is False, f"{other} loaded: {loaded}"

    services = http("GET", "/_localstack/health")[1]["services"]
    assert services["dynamodb"] == services["dynamodbstreams"] == "running"


def test_t1_no_dynamodb_local_process():
    offenders = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "DynamoDBLocal" in cmd or "dynamodb-local" in cmd.lower():
            offenders.append(f"{pid}: {cmd[:200]}")
    assert not offenders, offenders


def test_t1_ttl_developer_endpoint_registered(ddb):
    ddb.list_tables(Limit=1)  # the provider (and its route) is loaded lazily on first use
    status, body = http("DELETE", "/_aws/dynamodb/expired")
    assert status == 200, body
    assert isinstance(body.get("ExpiredItems"), int)


# ---------------------------------------------------------------------------------------------------------
# T2 CreateTable / DescribeTable


def test_t2_create_describe_table(ddb):
    name = unique("t2")
    created = create_table(ddb, name, range_key="sk", gsi=True)
    try:
        assert created["TableStatus"] == "ACTIVE"
        assert created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        table_id = created["TableId"]
        assert len(table_id) == 36
        d1 = ddb.describe_table(TableName=name)["Table"]
        d2 = ddb.describe_table(TableName=name)["Table"]
        assert d1["TableId"] == d2["TableId"] == table_id
        assert d1["TableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        assert d1["LatestStreamArn"].startswith(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}/stream/")
        assert d1["LatestStreamArn"].endswith(d1["LatestStreamLabel"])
        assert d1["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert [g["IndexName"] for g in d1["GlobalSecondaryIndexes"]] == ["by-gsi"]
        assert "LocalSecondaryIndexes" not in d1  # AWS omits empty index lists
        assert name in ddb.list_tables()["TableNames"]
    finally:
        deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    assert deleted["TableId"] == table_id
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=name)
    assert error_code(e) == "ResourceNotFoundException"
    # same name again: a new table, a new TableId
    again = create_table(ddb, name, stream=None)
    try:
        assert again["TableId"] != table_id
        assert "LatestStreamArn" not in again
    finally:
        ddb.delete_table(TableName=name)


def test_t2_stream_enabled_without_view_type_rejected(ddb):
    """moto alone accepts it and then answers every write with a 500 (KeyError 'StreamViewType')"""
    base = dict(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    name = unique("t2s")
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, StreamSpecification={"StreamEnabled": True}, **base)
    assert error_code(e) == "ValidationException"
    ddb.create_table(TableName=name, **base)
    try:
        with pytest.raises(ClientError) as e:
            ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True})
        assert error_code(e) == "ValidationException"
        ddb.put_item(TableName=name, Item={"pk": S("a")})
        assert "LatestStreamArn" not in ddb.describe_table(TableName=name)["Table"]
    finally:
        ddb.delete_table(TableName=name)


def test_t2_provisioned_without_throughput_rejected(ddb):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=unique("t2p"),
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PROVISIONED",
        )
    assert error_code(e) == "ValidationException"


# ---------------------------------------------------------------------------------------------------------
# T3 conditional writes


def test_t3_conditional_put_update_delete(ddb, table):
    name = table["TableName"]
    ddb.put_item(TableName=name, Item={"pk": S("a"), "v": N(1)}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=name, Item={"pk": S("a"), "v": N(99)}, ConditionExpression="attribute_not_exists(pk)"
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert "Item" not in e.value.response

    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=name,
            Item={"pk": S("a"), "v": N(99)},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert e.value.response["Item"] == {"pk": S("a"), "v": N(1)}

    # optimistic locking on a version attribute
    upd = ddb.update_item(
        TableName=name,
        Key={"pk": S("a")},
        UpdateExpression="SET v = v + :one, note = :n",
        ConditionExpression="v = :expected",
        ExpressionAttributeValues={":one": N(1), ":expected": N(1), ":n": S("x")},
        ReturnValues="ALL_NEW",
    )
    assert upd["Attributes"]["v"] == N(2)
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=name,
            Key={"pk": S("a")},
            UpdateExpression="SET v = v + :one",
            ConditionExpression="v = :expected",
            ExpressionAttributeValues={":one": N(1), ":expected": N(1)},
        )
    assert error_code(e) == "ConditionalCheckFailedException"

    with pytest.raises(ClientError) as e:
        ddb.delete_item(
            TableName=name, Key={"pk": S("a")}, ConditionExpression="v = :v", ExpressionAttributeValues={":v": N(7)}
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    ddb.delete_item(
        TableName=name, Key={"pk": S("a")}, ConditionExpression="v = :v", ExpressionAttributeValues={":v": N(2)}
    )
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": S("a")})


# ---------------------------------------------------------------------------------------------------------
# T4 transactions


def test_t4_transactions(ddb, table):
    name = table["TableName"]
    ddb.put_item(TableName=name, Item={"pk": S("upd"), "n": N(1)})
    ddb.put_item(TableName=name, Item={"pk": S("del")})

    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": S("new")}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": S("upd")},
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": N(1)},
                }
            },
            {"Delete": {"TableName": name, "Key": {"pk": S("del")}}},
        ]
    )
    keys = sorted(i["pk"]["S"] for i in ddb.scan(TableName=name, ConsistentRead=True)["Items"])
    assert keys == ["new", "upd"]
    assert ddb.get_item(TableName=name, Key={"pk": S("upd")})["Item"]["n"] == N(2)

    # Put + failing ConditionCheck -> cancelled, nothing applied, reasons per item
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": S("b")}}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": S("upd")},
                        "ConditionExpression": "n = :n",
                        "ExpressionAttributeValues": {":n": N(42)},
                    }
                },
            ]
        )
    assert error_code(e) == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    keys = sorted(i["pk"]["S"] for i in ddb.scan(TableName=name, ConsistentRead=True)["Items"])
    assert keys == ["new", "upd"]

    # ALL_OLD on the failing check returns the item in the reason
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": S("upd")},
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        )
    assert e.value.response["CancellationReasons"][0]["Item"] == {"pk": S("upd"), "n": N(2)}

    # two operations on one key -> ValidationException
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": S("dup"), "x": N(1)}}},
                {"Put": {"TableName": name, "Item": {"pk": S("dup"), "x": N(2)}}},
            ]
        )
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": S("dup")})


# ---------------------------------------------------------------------------------------------------------
# T5 stream continuity after a cancelled transaction (moto alone: phantom INSERT b, never c)


def test_t5_stream_survives_cancelled_transaction(ddb, streams, table):
    name, arn = table["TableName"], table["LatestStreamArn"]
    trim = shard_iterator(streams, arn, "TRIM_HORIZON")
    ddb.put_item(TableName=name, Item={"pk": S("a")})
    latest = shard_iterator(streams, arn, "LATEST")

    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": S("b")}}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": S("a")},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert error_code(e) == "TransactionCanceledException"
    ddb.put_item(TableName=name, Item={"pk": S("c")})

    records, _ = drain(streams, latest)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [("INSERT", "c")]
    records, nxt = drain(streams, trim)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [("INSERT", "a"), ("INSERT", "c")]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs[1] == seqs[0] + 1  # no hole left by the cancelled write
    # and the iterator chain keeps working
    ddb.put_item(TableName=name, Item={"pk": S("d")})
    records, _ = drain(streams, nxt)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["d"]
    assert sorted(i["pk"]["S"] for i in ddb.scan(TableName=name)["Items"]) == ["a", "c", "d"]


# ---------------------------------------------------------------------------------------------------------
# T6 Query


def test_t6_query_table_and_gsi(ddb):
    name = create_table(ddb, range_key="sk", gsi=True, stream=None)["TableName"]
    try:
        ddb.batch_write_item(
            RequestItems={
                name: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": S("user#1"),
                                "sk": S(f"order#{i:02d}"),
                                "gsi_pk": S("open" if i % 2 else "closed"),
                                "gsi_sk": N(i),
                                "amount": N(i * 10),
                            }
                        }
                    }
                    for i in range(10)
                ]
            }
        )
        ddb.put_item(TableName=name, Item={"pk": S("user#2"), "sk": S("order#00"), "gsi_pk": S("open"), "gsi_sk": N(100)})

        r = ddb.query(
            TableName=name,
            KeyConditionExpression="pk = :p AND begins_with(sk, :o)",
            ExpressionAttributeValues={":p": S("user#1"), ":o": S("order#0")},
            ScanIndexForward=False,
        )
        assert [i["sk"]["S"] for i in r["Items"]] == [f"order#{i:02d}" for i in range(9, -1, -1)]

        r = ddb.query(
            TableName=name,
            IndexName="by-gsi",
            KeyConditionExpression="gsi_pk = :s AND gsi_sk BETWEEN :lo AND :hi",
            FilterExpression="amount >= :min",
            ExpressionAttributeValues={":s": S("open"), ":lo": N(0), ":hi": N(100), ":min": N(30)},
        )
        assert [int(i["gsi_sk"]["N"]) for i in r["Items"]] == [3, 5, 7, 9]  # user#2's item has no amount

        # pagination with Limit + ExclusiveStartKey, descending
        seen, start, pages = [], None, 0
        while True:
            kwargs = dict(
                TableName=name,
                IndexName="by-gsi",
                KeyConditionExpression="gsi_pk = :s",
                ExpressionAttributeValues={":s": S("open")},
                Limit=2,
                ScanIndexForward=False,
            )
            if start:
                kwargs["ExclusiveStartKey"] = start
            r = ddb.query(**kwargs)
            pages += 1
            seen += [int(i["gsi_sk"]["N"]) for i in r["Items"]]
            start = r.get("LastEvaluatedKey")
            if not start:
                break
            assert set(start) == {"pk", "sk", "gsi_pk", "gsi_sk"}
        assert seen == [100, 9, 7, 5, 3, 1]
        assert pages >= 3
    finally:
        ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------------------
# T7 TTL


def test_t7_ttl_and_sweeper(ddb, streams, table):
    name, arn = table["TableName"], table["LatestStreamArn"]
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}

    now = int(time.time())
    ddb.put_item(TableName=name, Item={"pk": S("old"), "expires": N(now - 60)})
    ddb.put_item(TableName=name, Item={"pk": S("fresh"), "expires": N(now + 3600)})
    ddb.put_item(TableName=name, Item={"pk": S("string-ttl"), "expires": S(str(now - 60))})
    ddb.put_item(TableName=name, Item={"pk": S("no-ttl")})
    it = shard_iterator(streams, arn, "LATEST")

    status, body = http("DELETE", "/_aws/dynamodb/expired")
    assert status == 200
    assert body["ExpiredItems"] >= 1  # global sweep: other suites' tables may contribute
    keys = sorted(i["pk"]["S"] for i in ddb.scan(TableName=name)["Items"])
    assert keys == ["fresh", "no-ttl", "string-ttl"]

    records, _ = drain(streams, it)
    assert len(records) == 1
    rec = records[0]
    assert rec["eventName"] == "REMOVE"
    assert rec["dynamodb"]["Keys"] == {"pk": S("old")}
    assert rec["dynamodb"]["OldImage"]["expires"] == N(now - 60)
    assert "NewImage" not in rec["dynamodb"]
    assert rec["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}

    status, body = http("DELETE", "/_aws/dynamodb/expired")
    assert sorted(i["pk"]["S"] for i in ddb.scan(TableName=name)["Items"]) == keys  # idempotent

    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"


def test_t7_ttl_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        ddb.describe_time_to_live(TableName=unique("missing"))
    assert error_code(e) == "ResourceNotFoundException"


# ---------------------------------------------------------------------------------------------------------
# T8 streams API and record shape


def test_t8_stream_records_shape_and_order(ddb, streams, table):
    name, arn = table["TableName"], table["LatestStreamArn"]
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert desc["TableName"] == name
    assert desc["StreamLabel"] == table["LatestStreamLabel"]
    assert len(desc["Shards"]) == 1 and "EndingSequenceNumber" not in desc["Shards"][0]["SequenceNumberRange"]
    assert {"StreamArn": arn, "TableName": name, "StreamLabel": table["LatestStreamLabel"]} in streams.list_streams(
        TableName=name
    )["Streams"]

    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    it = shard_iterator(streams, arn, "TRIM_HORIZON")
    ddb.put_item(TableName=name, Item={"pk": S("k"), "v": N(1)})
    ddb.update_item(
        TableName=name, Key={"pk": S("k")}, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": N(2)}
    )
    ddb.delete_item(TableName=name, Key={"pk": S("k")})
    records, _ = drain(streams, it)

    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    ins, mod, rem = (r["dynamodb"] for r in records)
    assert ins["NewImage"] == {"pk": S("k"), "v": N(1)} and "OldImage" not in ins
    assert mod["OldImage"]["v"] == N(1) and mod["NewImage"]["v"] == N(2)
    assert rem["OldImage"] == {"pk": S("k"), "v": N(2)} and "NewImage" not in rem
    for r in records:
        assert r["awsRegion"] == REGION
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        assert r["dynamodb"]["Keys"] == {"pk": S("k")}
        assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert r["dynamodb"]["SizeBytes"] > 0
        created = r["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, datetime.datetime)
        assert before <= created <= datetime.datetime.now(datetime.timezone.utc)

    # AT / AFTER sequence number iterators
    at = streams.get_shard_iterator(
        StreamArn=arn, ShardId=desc["Shards"][0]["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=str(seqs[1]),
    )["ShardIterator"]
    assert [r["eventName"] for r in drain(streams, at)[0]] == ["MODIFY", "REMOVE"]
    after = streams.get_shard_iterator(
        StreamArn=arn, ShardId=desc["Shards"][0]["ShardId"], ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=str(seqs[1]),
    )["ShardIterator"]
    assert [r["eventName"] for r in drain(streams, after)[0]] == ["REMOVE"]
    # Limit
    page = streams.get_records(ShardIterator=shard_iterator(streams, arn), Limit=2)
    assert len(page["Records"]) == 2 and page["NextShardIterator"]


@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE"])
def test_t8_view_types(ddb, streams, view):
    desc = create_table(ddb, stream=view)
    name, arn = desc["TableName"], desc["LatestStreamArn"]
    try:
        it = shard_iterator(streams, arn)
        ddb.put_item(TableName=name, Item={"pk": S("k"), "v": N(1)})
        ddb.put_item(TableName=name, Item={"pk": S("k"), "v": N(2)})
        ddb.delete_item(TableName=name, Key={"pk": S("k")})
        recs = [r["dynamodb"] for r in drain(streams, it)[0]]
        assert len(recs) == 3
        has = [(("NewImage" in r), ("OldImage" in r)) for r in recs]
        expected = {
            "KEYS_ONLY": [(False, False)] * 3,
            "NEW_IMAGE": [(True, False), (True, False), (False, False)],
            "OLD_IMAGE": [(False, False), (False, True), (False, True)],
        }[view]
        assert has == expected
        assert all(r["Keys"] == {"pk": S("k")} and r["StreamViewType"] == view for r in recs)
    finally:
        ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------------------
# T9 streams errors


def test_t9_stream_errors(ddb, streams):
    desc = create_table(ddb)
    name, arn = desc["TableName"], desc["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator="x" * 200)
    assert error_code(e) == "ExpiredIteratorException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                                   ShardIteratorType="TRIM_HORIZON")
    assert error_code(e) == "ResourceNotFoundException"

    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                   SequenceNumber="1000000000000000000000")
    assert error_code(e) == "TrimmedDataAccessException"

    bogus = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    for bad in (bogus, arn.replace(f"table/{name}/", "table/nope/"), arn.replace(REGION, "us-west-2")):
        with pytest.raises(ClientError) as e:
            streams.describe_stream(StreamArn=bad)
        assert error_code(e) == "ResourceNotFoundException", bad

    # a deleted table: its stream is gone, an open iterator drains and then reports a closed shard
    it = shard_iterator(streams, arn)
    ddb.put_item(TableName=name, Item={"pk": S("last")})
    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=arn)
    assert error_code(e) == "ResourceNotFoundException"
    records, nxt = drain(streams, it)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["last"]
    assert nxt is None  # no NextShardIterator: ESM pollers re-initialise instead of spinning


# ---------------------------------------------------------------------------------------------------------
# T10 disable / re-enable a stream


def test_t10_stream_disable_and_reenable(ddb, streams, table):
    name, arn = table["TableName"], table["LatestStreamArn"]
    it = shard_iterator(streams, arn)
    ddb.put_item(TableName=name, Item={"pk": S("before")})

    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item={"pk": S("while-disabled")})  # moto alone: 500 KeyError('StreamViewType')
    ddb.update_item(TableName=name, Key={"pk": S("before")}, UpdateExpression="SET x = :x",
                    ExpressionAttributeValues={":x": N(1)})
    ddb.delete_item(TableName=name, Key={"pk": S("while-disabled")})

    d = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in d or d["StreamSpecification"]["StreamEnabled"] is False
    old = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert old["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert "EndingSequenceNumber" in old["Shards"][0]["SequenceNumberRange"]
    records, nxt = drain(streams, it)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["before"]
    assert nxt is None  # closed shard

    upd = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )["TableDescription"]
    new_arn = upd["LatestStreamArn"]
    assert new_arn != arn and new_arn.startswith(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}/stream/")
    with pytest.raises(ClientError):  # enabling an enabled stream is refused
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"] == new_arn

    ddb.put_item(TableName=name, Item={"pk": S("after")})
    records, _ = drain(streams, shard_iterator(streams, new_arn))
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [("INSERT", "after")]
    assert records[0]["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=arn)
    assert error_code(e) == "ResourceNotFoundException"


# ---------------------------------------------------------------------------------------------------------
# T11 accounts and regions


def test_t11_accounts_and_regions():
    a_eu = client("dynamodb", region="eu-west-1", account="111111111111")
    b_eu = client("dynamodb", region="eu-west-1", account="222222222222")
    a_us = client("dynamodb", region="us-west-2", account="111111111111")
    name = unique("t11")
    desc = create_table(a_eu, name)
    us_desc = create_table(a_us, name)  # same name, other region: another table
    try:
        assert desc["TableArn"] == f"arn:aws:dynamodb:eu-west-1:111111111111:table/{name}"
        assert desc["LatestStreamArn"].startswith(f"arn:aws:dynamodb:eu-west-1:111111111111:table/{name}/stream/")
        assert us_desc["TableArn"] == f"arn:aws:dynamodb:us-west-2:111111111111:table/{name}"
        with pytest.raises(ClientError) as e:
            b_eu.describe_table(TableName=name)
        assert error_code(e) == "ResourceNotFoundException"
        assert name not in b_eu.list_tables()["TableNames"]

        a_eu.put_item(TableName=name, Item={"pk": S("eu")})
        a_us.put_item(TableName=name, Item={"pk": S("us")})
        assert [i["pk"]["S"] for i in a_eu.scan(TableName=name)["Items"]] == ["eu"]
        assert [i["pk"]["S"] for i in a_us.scan(TableName=name)["Items"]] == ["us"]

        s_eu = client("dynamodbstreams", region="eu-west-1", account="111111111111")
        s_us = client("dynamodbstreams", region="us-west-2", account="111111111111")
        recs, _ = drain(s_eu, shard_iterator(s_eu, desc["LatestStreamArn"]))
        assert [(r["awsRegion"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in recs] == [("eu-west-1", "eu")]
        recs, _ = drain(s_us, shard_iterator(s_us, us_desc["LatestStreamArn"]))
        assert [(r["awsRegion"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in recs] == [("us-west-2", "us")]
        # another account cannot read the stream
        s_b = client("dynamodbstreams", region="eu-west-1", account="222222222222")
        with pytest.raises(ClientError) as e:
            s_b.describe_stream(StreamArn=desc["LatestStreamArn"])
        assert error_code(e) == "ResourceNotFoundException"
    finally:
        a_eu.delete_table(TableName=name)
        a_us.delete_table(TableName=name)


# ---------------------------------------------------------------------------------------------------------
# T16 state reset


def test_t16_state_reset_endpoint(ddb):
    """Spec T16 expects POST /_localstack/state/reset; community 4.13.1 has no such endpoint (a Pro feature).
    Probed with GET (harmless); the real reset wipes every service, so it only runs with DDB_TEST_ALLOW_STATE_RESET=1."""
    status, _ = http("GET", "/_localstack/state/reset")
    if status == 404:
        pytest.skip("/_localstack/state/reset does not exist in LocalStack community 4.13.1 (404)")
    if os.environ.get("DDB_TEST_ALLOW_STATE_RESET") != "1":
        pytest.skip("state reset endpoint exists but wipes all services: set DDB_TEST_ALLOW_STATE_RESET=1")
    name = create_table(ddb, stream=None)["TableName"]
    status, body = http("POST", "/_localstack/state/reset")
    assert status == 200, body
    assert name not in ddb.list_tables()["TableNames"]
