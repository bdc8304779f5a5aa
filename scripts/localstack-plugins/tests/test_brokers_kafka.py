"""Kafka event source mappings (cmp_localstack/brokers/esm/kafka.py) against the local Kafka: an MSK cluster, its
mapping and a function deployed with CloudFormation; a self-managed mapping over SASL/SCRAM; retries, the
on-failure destination and the partial batch response."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from brokers_helpers import (
    KAFKA,
    KAFKA_SASL,
    PASSWORD,
    USER,
    b64decode,
    delete,
    deploy,
    function_resources,
    quiet,
    receive,
    require_broker,
    secret_resource,
    wait_esm_enabled,
)

kafka = pytest.importorskip("kafka", reason="run this suite with the LocalStack venv's python (kafka-python)")


@pytest.fixture(scope="module")
def clients(aws_client):
    require_broker(KAFKA, "Kafka")
    return aws_client("cloudformation"), aws_client("sqs"), aws_client("lambda")


def produce(topic: str, *values: bytes, key: bytes | None = None, headers=None, bootstrap=KAFKA) -> None:
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap)
    for value in values:
        producer.send(topic, value=value, key=key, headers=headers or [])
    producer.flush(10)
    producer.close()


def committed(group: str, topic: str, expected: int, timeout: float = 15) -> int | None:
    """The group's committed offset of partition 0, once it is ``expected`` (the commit follows the invoke)."""
    consumer = kafka.KafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            offset = consumer.committed(kafka.TopicPartition(topic, 0))
            if offset == expected or time.monotonic() > deadline:
                return offset
            time.sleep(0.3)
    finally:
        consumer.close()


def msk_template(topic: str, esm: dict | None = None, env: dict | None = None) -> dict:
    return {
        "Resources": {
            "Cluster": {
                "Type": "AWS::MSK::Cluster",
                "Properties": {
                    "ClusterName": f"c-{uuid.uuid4().hex[:8]}",
                    "KafkaVersion": "3.6.0",
                    "NumberOfBrokerNodes": 2,
                    "BrokerNodeGroupInfo": {
                        "ClientSubnets": ["subnet-1", "subnet-2"],
                        "InstanceType": "kafka.t3.small",
                        "StorageInfo": {"EBSStorageInfo": {"VolumeSize": 10}},
                    },
                    "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}},
                },
            },
            **function_resources(env),
            "Dlq": {"Type": "AWS::SQS::Queue"},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "EventSourceArn": {"Ref": "Cluster"},
                    "Topics": [topic],
                    "StartingPosition": "TRIM_HORIZON",
                    **(esm or {}),
                },
            },
        },
        "Outputs": {
            "ClusterArn": {"Value": {"Fn::GetAtt": ["Cluster", "Arn"]}},
            "ClusterRef": {"Value": {"Ref": "Cluster"}},
            "Sink": {"Value": {"Ref": "Sink"}},
            "Dlq": {"Value": {"Ref": "Dlq"}},
            "Mapping": {"Value": {"Ref": "Mapping"}},
        },
    }


@pytest.fixture
def stack(clients, unique_name):
    cfn = clients[0]
    names = []

    def make(template: dict) -> dict:
        names.append(unique_name + f"-{len(names)}")
        return deploy(cfn, names[-1], template)

    yield make
    for name in names:
        delete(cfn, name)


def test_msk_cluster_mapping_and_function_from_cloudformation(clients, stack, unique_name):
    _, sqs, lam = clients
    topic = f"orders-{unique_name}"
    produce(topic, b'{"id": 1}', key=b"k1", headers=[("trace", b"abc"), ("empty", b"")])
    produce(topic, b"second")
    out = stack(msk_template(topic, {"BatchSize": 10}))
    assert out["ClusterRef"] == out["ClusterArn"]
    assert out["ClusterArn"].startswith("arn:aws:kafka:us-east-1:000000000000:cluster/")

    events = receive(sqs, out["Sink"], 1)
    records = [r for e in events for r in e["records"][f"{topic}-0"]]
    while len(records) < 2:  # the two records may come in one batch or two
        events += receive(sqs, out["Sink"], 1)
        records = [r for e in events for r in e["records"][f"{topic}-0"]]
    event = events[0]
    assert event["eventSource"] == "aws:kafka"
    assert event["eventSourceArn"] == out["ClusterArn"]
    assert event["bootstrapServers"] == KAFKA
    assert list(event["records"]) == [f"{topic}-0"]
    first, second = records
    assert set(first) == {"topic", "partition", "offset", "timestamp", "timestampType", "key", "value", "headers"}
    assert (first["topic"], first["partition"], first["offset"]) == (topic, 0, 0)
    assert first["timestampType"] == "CREATE_TIME" and isinstance(first["timestamp"], int)
    assert b64decode(first["key"]) == b"k1"
    assert json.loads(b64decode(first["value"])) == {"id": 1}
    assert first["headers"] == [{"trace": [97, 98, 99]}, {"empty": []}]
    assert "key" not in second and b64decode(second["value"]) == b"second" and second["offset"] == 1

    mapping = lam.get_event_source_mapping(UUID=out["Mapping"])
    assert mapping["EventSourceArn"] == out["ClusterArn"] and mapping["Topics"] == [topic]
    assert committed(out["Mapping"], topic, 2) == 2  # committed after the invoke; the group is the mapping's UUID


@pytest.mark.parametrize("auth", ["SASL_SCRAM_512_AUTH", "SASL_SCRAM_256_AUTH", "BASIC_AUTH"])
def test_self_managed_kafka_over_sasl(clients, stack, unique_name, auth):
    _, sqs, lam = clients
    require_broker(KAFKA_SASL, "Kafka (SASL_PLAINTEXT)")
    topic = f"sm-{unique_name}"
    produce(topic, b"over-scram")
    out = stack({
        "Resources": {**function_resources(), "Secret": secret_resource()},
        "Outputs": {"Sink": {"Value": {"Ref": "Sink"}}, "Fn": {"Value": {"Ref": "Fn"}}, "Secret": {"Value": {"Ref": "Secret"}}},
    })
    mapping = lam.create_event_source_mapping(
        FunctionName=out["Fn"],
        SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [KAFKA_SASL]}},
        SourceAccessConfigurations=[{"Type": auth, "URI": out["Secret"]}],
        SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": f"group-{unique_name}"},
        Topics=[topic],
        StartingPosition="TRIM_HORIZON",
    )
    try:
        event = receive(sqs, out["Sink"], 1)[0]
        assert event["eventSource"] == "aws:SelfManagedKafka"
        assert "eventSourceArn" not in event
        assert event["bootstrapServers"] == KAFKA_SASL
        assert b64decode(event["records"][f"{topic}-0"][0]["value"]) == b"over-scram"
        assert committed(f"group-{unique_name}", topic, 1) == 1
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_self_managed_kafka_with_a_wrong_password_gets_nothing(clients, stack, unique_name):
    """the poller cannot authenticate: it logs, backs off and retries (the worker thread survives); nothing is read"""
    _, sqs, lam = clients
    topic = f"badpw-{unique_name}"
    produce(topic, b"never")
    out = stack({
        "Resources": {**function_resources(), "Secret": secret_resource(USER, PASSWORD + "-wrong")},
        "Outputs": {"Sink": {"Value": {"Ref": "Sink"}}, "Fn": {"Value": {"Ref": "Fn"}}, "Secret": {"Value": {"Ref": "Secret"}}},
    })
    mapping = lam.create_event_source_mapping(
        FunctionName=out["Fn"],
        SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [KAFKA_SASL]}},
        SourceAccessConfigurations=[{"Type": "SASL_SCRAM_512_AUTH", "URI": out["Secret"]}],
        Topics=[topic],
        StartingPosition="TRIM_HORIZON",
    )
    try:
        wait_esm_enabled(lam, mapping["UUID"])
        assert quiet(sqs, out["Sink"], 6) == []
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled"
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_failing_batch_is_retried_then_sent_to_the_on_failure_destination(clients, stack, unique_name):
    _, sqs, lam = clients
    topic = f"poison-{unique_name}"
    produce(topic, b"poison", b"fine")
    template = msk_template(topic, {
        "BatchSize": 1,
        "MaximumRetryAttempts": 2,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
    })
    out = stack(template)

    invocations = receive(sqs, out["Sink"], 4, timeout=60)
    values = [b64decode(e["records"][f"{topic}-0"][0]["value"]) for e in invocations]
    assert values == [b"poison"] * 3 + [b"fine"]  # 1 invoke + 2 retries, then the offset moves on

    failure = receive(sqs, out["Dlq"], 1)[0]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["version"] == "1.0"
    info = failure["KafkaBatchInfo"]
    assert info["batchSize"] == 1 and info["bootstrapServers"] == KAFKA
    assert info["recordsInfo"][f"{topic}-0"]["firstRecordOffset"] == "0"
    assert committed(out["Mapping"], topic, 2) == 2


def test_partial_batch_response_retries_from_the_lowest_failed_offset(clients, stack, unique_name):
    _, sqs, _ = clients
    topic = f"partial-{unique_name}"
    produce(topic, b"a", b"poison", b"c")
    out = stack(msk_template(
        topic,
        {"BatchSize": 10, "MaximumRetryAttempts": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
         "MaximumBatchingWindowInSeconds": 2},
        env={"FAIL_MODE": "partial"},
    ))
    first, retry = receive(sqs, out["Sink"], 2)
    assert [r["offset"] for r in first["records"][f"{topic}-0"]] == [0, 1, 2]
    assert [r["offset"] for r in retry["records"][f"{topic}-0"]] == [1, 2]  # offset 0 was committed
    assert quiet(sqs, out["Sink"], 3) == []  # retries exhausted (1): discarded, no destination
    assert committed(out["Mapping"], topic, 3) == 3


def test_bisect_batch_on_function_error_splits_the_failed_batch(clients, stack, unique_name):
    _, sqs, _ = clients
    topic = f"bisect-{unique_name}"
    produce(topic, b"a", b"poison", b"c", b"d")
    out = stack(msk_template(topic, {"BatchSize": 10, "MaximumRetryAttempts": 1, "BisectBatchOnFunctionError": True,
                                     "MaximumBatchingWindowInSeconds": 2}))
    invocations = receive(sqs, out["Sink"], 3)
    offsets = [[r["offset"] for r in e["records"][f"{topic}-0"]] for e in invocations]
    assert offsets == [[0, 1, 2, 3], [0, 1], [2, 3]]  # [0, 1] fails again: retries exhausted, discarded
    assert quiet(sqs, out["Sink"], 3) == []
    assert committed(out["Mapping"], topic, 4) == 4


def test_records_older_than_maximum_record_age_go_to_the_destination(clients, stack, unique_name):
    _, sqs, _ = clients
    topic = f"age-{unique_name}"
    producer = kafka.KafkaProducer(bootstrap_servers=KAFKA)
    producer.send(topic, b"stale", timestamp_ms=int((time.time() - 120) * 1000))
    producer.send(topic, b"fresh")
    producer.flush(10)
    producer.close()
    out = stack(msk_template(topic, {
        "BatchSize": 10, "MaximumRecordAgeInSeconds": 60,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
    }))
    (event,) = receive(sqs, out["Sink"], 1)
    assert [b64decode(r["value"]) for r in event["records"][f"{topic}-0"]] == [b"fresh"]
    failure = receive(sqs, out["Dlq"], 1)[0]
    assert "requestContext" not in failure  # nothing was invoked
    assert failure["KafkaBatchInfo"]["recordsInfo"][f"{topic}-0"]["firstRecordOffset"] == "0"
    assert committed(out["Mapping"], topic, 2) == 2


def test_starting_position_at_timestamp(clients, stack, unique_name):
    _, sqs, _ = clients
    topic = f"at-{unique_name}"
    produce(topic, b"before")
    time.sleep(1.5)
    start = time.time()
    produce(topic, b"after")
    out = stack(msk_template(topic, {"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": start}))
    events = receive(sqs, out["Sink"], 1)
    assert [b64decode(r["value"]) for e in events for r in e["records"][f"{topic}-0"]] == [b"after"]
