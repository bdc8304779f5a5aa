"""T14b (+ the T16 recovery paths): LocalStack's own Lambda ESM DynamoDBPoller, run in this (LocalStack) venv,
reads the moto-backed stream through the gateway. No Lambda execution involved: the processor records batches.
(T15, a real event source mapping invoking a function, needs the Lambda process executor: not in this suite.)"""

import pytest
from botocore.exceptions import ClientError
from test_ddb_helpers import REGION, client, create_table, ddb, table  # noqa: F401 (fixtures)

poller_mod = pytest.importorskip(
    "localstack.services.lambda_.event_source_mapping.pollers.dynamodb_poller",
    reason="run this suite with the LocalStack venv's python",
)
from localstack.services.lambda_.event_source_mapping.event_processor import EventProcessor  # noqa: E402
from localstack.services.lambda_.event_source_mapping.pollers.poller import (  # noqa: E402
    EmptyPollResultsException,
)


class Recorder(EventProcessor):
    def __init__(self):
        self.batches: list[list[dict]] = []

    def process_events_batch(self, input_events):
        self.batches.append(input_events)

    def generate_event_failure_context(self, abort_condition, **kwargs):
        return {"abort_condition": abort_condition}

    @property
    def events(self) -> list[dict]:
        return [e for b in self.batches for e in b]


def make_poller(stream_arn: str, processor: EventProcessor, starting="TRIM_HORIZON", filters=None, batch=100):
    params = {
        "DynamoDBStreamParameters": {
            "StartingPosition": starting,
            "BatchSize": batch,
            "MaximumBatchingWindowInSeconds": 0,
            "MaximumRetryAttempts": -1,
            "MaximumRecordAgeInSeconds": -1,
        }
    }
    if filters:
        params["FilterCriteria"] = {"Filters": [{"Pattern": f} for f in filters]}
    return poller_mod.DynamoDBPoller(
        source_arn=stream_arn,
        source_parameters=params,
        source_client=client("dynamodbstreams"),
        processor=processor,
    )


def poll(poller, times: int = 3):
    for _ in range(times):
        try:
            poller.poll_events()
        except EmptyPollResultsException:
            pass


def test_t14b_poller_reads_moto_stream(ddb, table):
    name, arn = table["TableName"], table["LatestStreamArn"]
    rec = Recorder()
    poller = make_poller(arn, rec)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    poll(poller)

    events = rec.events
    assert [e["eventName"] for e in events] == ["INSERT", "MODIFY", "REMOVE"]
    for e in events:
        assert e["eventSourceARN"] == arn
        assert e["eventSource"] == "aws:dynamodb"
        assert e["awsRegion"] == REGION
        assert e["eventVersion"] == "1.1"
        assert isinstance(e["dynamodb"]["ApproximateCreationDateTime"], float)
        assert e["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert events[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert "OldImage" not in events[0]["dynamodb"]
    assert events[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert "NewImage" not in events[2]["dynamodb"]

    # later writes arrive in later polls, exactly once
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})
    poll(poller)
    assert [e["dynamodb"]["Keys"]["pk"]["S"] for e in rec.events] == ["a", "a", "a", "b"]


def test_t14b_poller_filter_and_cancelled_transaction(ddb, table):
    name, arn = table["TableName"], table["LatestStreamArn"]
    rec = Recorder()
    poller = make_poller(arn, rec, starting="LATEST", filters=['{"eventName": ["INSERT"]}'])
    poll(poller, 1)  # initialise the LATEST iterator before writing
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "phantom"}}}},
                {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "a"}},
                                    "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})  # MODIFY: filtered out
    ddb.put_item(TableName=name, Item={"pk": {"S": "c"}})
    poll(poller)
    assert [(e["eventName"], e["dynamodb"]["Keys"]["pk"]["S"]) for e in rec.events] == [
        ("INSERT", "a"),
        ("INSERT", "c"),
    ]


def test_t16_poller_recovers_from_lost_iterator(ddb, table):
    """unknown iterator (e.g. LocalStack restarted) -> ExpiredIteratorException -> the poller re-initialises
    (from its StartingPosition, LocalStack's behaviour) instead of retrying a 500 forever"""
    name, arn = table["TableName"], table["LatestStreamArn"]
    rec = Recorder()
    poller = make_poller(arn, rec)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    poll(poller)
    assert len(rec.events) == 1
    shard_id = next(iter(poller.shards))
    poller.shards[shard_id] = "lost-" + "x" * 100
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})
    poll(poller)
    assert poller.shards[shard_id] != "lost-" + "x" * 100
    assert [e["dynamodb"]["Keys"]["pk"]["S"] for e in rec.events][-1] == "b"


def test_t16_poller_after_table_deleted(ddb):
    """table deleted: the poller drains the closed shard, then re-initialises and gets ResourceNotFound
    (LocalStack's ESM worker logs and backs off); a re-created table has a new stream ARN"""
    desc = create_table(ddb)
    name, arn = desc["TableName"], desc["LatestStreamArn"]
    rec = Recorder()
    poller = make_poller(arn, rec)
    poll(poller, 1)
    ddb.put_item(TableName=name, Item={"pk": {"S": "last"}})
    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as e:
        poll(poller, 3)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert [e["dynamodb"]["Keys"]["pk"]["S"] for e in rec.events] == ["last"]

    again = create_table(ddb, name)
    try:
        assert again["LatestStreamArn"] != arn
        with pytest.raises(ClientError):
            poll(poller, 1)  # the old stream ARN stays gone, as on AWS
        rec2 = Recorder()
        poller2 = make_poller(again["LatestStreamArn"], rec2)
        ddb.put_item(TableName=name, Item={"pk": {"S": "new"}})
        poll(poller2)
        assert [e["dynamodb"]["Keys"]["pk"]["S"] for e in rec2.events] == ["new"]
    finally:
        ddb.delete_table(TableName=name)
