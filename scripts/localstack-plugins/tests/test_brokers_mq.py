"""Amazon MQ event source mappings (cmp_localstack/brokers/esm/rabbitmq.py, activemq.py) against the local RabbitMQ and
ActiveMQ: broker, secret, function and mapping deployed with CloudFormation; AWS's event shapes; redelivery of a
failed batch and dead-lettering by the broker."""

from __future__ import annotations

import time
import uuid

import pytest
from brokers_helpers import (
    ACTIVEMQ_STOMP,
    PASSWORD,
    RABBITMQ,
    USER,
    b64decode,
    delete,
    deploy,
    function_resources,
    host_port,
    receive,
    secret_resource,
    require_broker,
)

pika = pytest.importorskip("pika", reason="run this suite with the LocalStack venv's python (pika)")
stomp = pytest.importorskip("stomp", reason="run this suite with the LocalStack venv's python (stomp.py)")


@pytest.fixture(scope="module")
def clients(aws_client):
    require_broker(RABBITMQ, "RabbitMQ")
    require_broker(ACTIVEMQ_STOMP, "ActiveMQ (STOMP)")
    return aws_client("cloudformation"), aws_client("sqs"), aws_client("lambda")


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


def mq_template(engine: str, queue: str, access: list[dict] | None = None, esm: dict | None = None,
                user: tuple[str, str] = (USER, PASSWORD)) -> dict:
    """A broker whose user is ``user``, a secret with that user, the recording function and the mapping."""
    return {
        "Resources": {
            "Broker": {
                "Type": "AWS::AmazonMQ::Broker",
                "Properties": {
                    "BrokerName": f"b-{uuid.uuid4().hex[:8]}",
                    "EngineType": engine,
                    "EngineVersion": "3.13" if engine == "RABBITMQ" else "5.17.6",
                    "HostInstanceType": "mq.t3.micro",
                    "DeploymentMode": "SINGLE_INSTANCE",
                    "PubliclyAccessible": False,
                    "AutoMinorVersionUpgrade": True,
                    "Users": [{"Username": user[0], "Password": user[1]}],
                    "Tags": [{"Key": "team", "Value": "cmp"}],
                },
            },
            "Secret": secret_resource(*user),
            **function_resources(),
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "EventSourceArn": {"Fn::GetAtt": ["Broker", "Arn"]},
                    "Queues": [queue],
                    "SourceAccessConfigurations": [{"Type": "BASIC_AUTH", "URI": {"Ref": "Secret"}}, *(access or [])],
                    "BatchSize": 10,
                    **(esm or {}),
                },
            },
        },
        "Outputs": {
            "BrokerId": {"Value": {"Ref": "Broker"}},
            "BrokerArn": {"Value": {"Fn::GetAtt": ["Broker", "Arn"]}},
            "Amqp": {"Value": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "AmqpEndpoints"]}]}},
            "Stomp": {"Value": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "StompEndpoints"]}]}},
            "OpenWire": {"Value": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "OpenWireEndpoints"]}]}},
            "Sink": {"Value": {"Ref": "Sink"}},
            "Mapping": {"Value": {"Ref": "Mapping"}},
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# RabbitMQ


def rabbit_channel(vhost: str):
    host, port = host_port(RABBITMQ)
    connection = pika.BlockingConnection(pika.ConnectionParameters(host, port, vhost, pika.PlainCredentials(USER, PASSWORD)))
    return connection, connection.channel()


def test_rabbitmq_broker_mapping_and_event_shape(clients, stack, unique_name):
    _, sqs, _ = clients
    queue = f"pizza-{unique_name}"
    connection, channel = rabbit_channel("cmp")
    try:
        channel.queue_declare(queue)
        channel.basic_publish("", queue, b'{"pizza": "margherita"}', pika.BasicProperties(
            content_type="application/json", headers={"h1": "value1", "n": 10}, delivery_mode=2, priority=3,
            message_id="m-1", timestamp=1700000000, correlation_id="c-1",
        ))
        # a user of its own: mq:local creates the broker's users on the local RabbitMQ, the mapping reads as that user
        app_user = (f"app-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex)
        out = stack(mq_template("RABBITMQ", queue, [{"Type": "VIRTUAL_HOST", "URI": "cmp"}], user=app_user))
        assert out["BrokerId"].startswith("b-") and out["BrokerArn"].endswith(f":{out['BrokerId']}")
        assert out["BrokerArn"].startswith("arn:aws:mq:us-east-1:000000000000:broker:")
        assert out["Amqp"] == RABBITMQ

        event = receive(sqs, out["Sink"], 1)[0]
        assert event["eventSource"] == "aws:rmq"
        assert event["eventSourceArn"] == out["BrokerArn"]
        assert list(event["rmqMessagesByQueue"]) == [f"{queue}::cmp"]
        (message,) = event["rmqMessagesByQueue"][f"{queue}::cmp"]
        assert message["redelivered"] is False
        assert b64decode(message["data"]) == b'{"pizza": "margherita"}'
        props = message["basicProperties"]
        assert props["contentType"] == "application/json"
        assert props["headers"] == {"h1": {"bytes": list(b"value1")}, "n": 10}
        assert (props["deliveryMode"], props["priority"], props["messageId"], props["correlationId"]) == (2, 3, "m-1", "c-1")
        assert props["timestamp"] == "Nov 14, 2023, 10:13:20 PM"
        assert props["bodySize"] == len(b'{"pizza": "margherita"}')
        assert props["replyTo"] is None and props["contentEncoding"] is None
        time.sleep(1)  # acked after the invoke
        assert channel.queue_declare(queue, passive=True).method.message_count == 0
    finally:
        connection.close()


def test_rabbitmq_failed_batch_is_redelivered_then_dead_lettered_by_the_queue(clients, stack, unique_name):
    """nack with requeue: the broker redelivers (redelivered: true); a quorum queue with x-delivery-limit 2 dead-letters
    the message on its 3rd return"""
    _, sqs, _ = clients
    queue, dlq = f"work-{unique_name}", f"dead-{unique_name}"
    connection, channel = rabbit_channel("/")
    try:
        channel.queue_declare(dlq)
        channel.queue_declare(queue, durable=True, arguments={
            "x-queue-type": "quorum", "x-delivery-limit": 2,
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq,
        })
        channel.basic_publish("", queue, b"poison pizza")
        out = stack(mq_template("RABBITMQ", queue))
        invocations = receive(sqs, out["Sink"], 3, timeout=45)
        flags = [e["rmqMessagesByQueue"][f"{queue}::/"][0]["redelivered"] for e in invocations]
        assert flags == [False, True, True]
        deadline = time.monotonic() + 20
        while channel.queue_declare(dlq, passive=True).method.message_count == 0:
            assert time.monotonic() < deadline, "not dead-lettered"
            time.sleep(0.5)
        method, _, body = channel.basic_get(dlq, auto_ack=True)
        assert body == b"poison pizza"
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------------------------
# ActiveMQ


class Collector(stomp.ConnectionListener):
    def __init__(self):
        self.frames = []

    def on_message(self, frame):
        self.frames.append(frame)


def stomp_connection(listener=None):
    connection = stomp.Connection([host_port(ACTIVEMQ_STOMP)], auto_content_length=False)
    if listener:
        connection.set_listener("test", listener)
    connection.connect(USER, PASSWORD, wait=True)
    return connection


def test_activemq_broker_mapping_and_event_shape(clients, stack, unique_name):
    _, sqs, _ = clients
    queue = f"orders-{unique_name}"
    connection = stomp_connection()
    try:
        connection.send(f"/queue/{queue}", "ABC:AAAA", headers={"testKey": "testValue", "persistent": "true"})
        connection.send(f"/queue/{queue}", b"\x00\x01\x02", headers={"content-length": "3"})
        app_user = (f"app-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex)  # created on the local ActiveMQ by mq:local
        out = stack(mq_template("ACTIVEMQ", queue, user=app_user))
        assert out["OpenWire"].startswith("tcp://127.0.0.1:") and out["Stomp"] == ACTIVEMQ_STOMP

        events = receive(sqs, out["Sink"], 1)
        messages = [m for e in events for m in e["messages"]]
        while len(messages) < 2:
            events += receive(sqs, out["Sink"], 1)
            messages = [m for e in events for m in e["messages"]]
        assert events[0]["eventSource"] == "aws:amq" and events[0]["eventSourceArn"] == out["BrokerArn"]
        text, data = messages
        assert text["messageType"] == "jms/text-message" and b64decode(text["data"]) == b"ABC:AAAA"
        assert text["properties"] == {"testKey": "testValue"}
        assert text["destination"] == {"physicalName": queue}
        assert text["messageID"].startswith("ID:") and text["redelivered"] is False
        assert text["deliveryMode"] == 2 and text["persistent"] is True
        assert isinstance(text["timestamp"], int) and text["brokerOutTime"] >= text["brokerInTime"]
        assert data["messageType"] == "jms/bytes-message" and b64decode(data["data"]) == b"\x00\x01\x02"
    finally:
        connection.disconnect()


def test_activemq_failed_batch_is_redelivered_six_times_then_dead_lettered(clients, stack, unique_name):
    """Lambda's fixed ActiveMQ redelivery policy: maximumRedeliveries 6, then the broker's DLQ (ActiveMQ.DLQ)"""
    _, sqs, _ = clients
    queue = f"fail-{unique_name}"
    token = f"poison {uuid.uuid4()}"
    collector = Collector()
    connection = stomp_connection(collector)
    try:
        # persistent, as JMS producers send by default: ActiveMQ's dead-letter strategy drops non-persistent messages
        connection.send(f"/queue/{queue}", token, headers={"persistent": "true"})
        out = stack(mq_template("ACTIVEMQ", queue))
        invocations = receive(sqs, out["Sink"], 7, timeout=60)
        assert [e["messages"][0]["redelivered"] for e in invocations] == [False] + [True] * 6
        connection.subscribe("/queue/ActiveMQ.DLQ", id="dlq", ack="auto")
        deadline = time.monotonic() + 20
        while not any(f.body == token for f in collector.frames):
            assert time.monotonic() < deadline, "not in ActiveMQ.DLQ"
            time.sleep(0.3)
        assert [f.headers.get("original-destination") for f in collector.frames if f.body == token] == [f"/queue/{queue}"]
    finally:
        connection.disconnect()
