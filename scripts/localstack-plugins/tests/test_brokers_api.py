"""The kafka:local / mq:local providers (cmp_localstack/brokers/api.py) and the CloudFormation resource providers:
what moto lacks (ACTIVE clusters, GetBootstrapBrokers, AWS-shaped ids and ARNs, local endpoints, NotFoundException),
Ref / GetAtt as CloudFormation returns them, and a serverless cluster feeding a function."""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError
from brokers_helpers import (
    ACTIVEMQ_STOMP,
    KAFKA,
    KAFKA_SASL,
    RABBITMQ,
    delete,
    deploy,
    function_resources,
    host_port,
    receive,
    require_broker,
)

BROKER_NODES = {"ClientSubnets": ["subnet-1", "subnet-2"], "InstanceType": "kafka.m5.large"}
CLUSTER_ARN = r"arn:aws:kafka:us-east-1:000000000000:cluster/{name}/[0-9a-f-]{{36}}-{suffix}"


@pytest.fixture(scope="module")
def kafka_api(aws_client):
    return aws_client("kafka")


@pytest.fixture(scope="module")
def mq_api(aws_client):
    return aws_client("mq")


def test_the_plugins_are_loaded_by_localstack():
    from localstack.services.cloudformation.resource_provider import plugin_manager
    from localstack.services.lambda_.hooks import create_event_source_poller, set_event_source_config_defaults
    from localstack.services.plugins import SERVICE_PLUGINS

    assert "local" in SERVICE_PLUGINS.api_provider_specs["kafka"]
    assert "local" in SERVICE_PLUGINS.api_provider_specs["mq"]
    assert {"AWS::MSK::Cluster", "AWS::MSK::ServerlessCluster", "AWS::AmazonMQ::Broker"} <= set(plugin_manager.list_names())
    assert "cmp-brokers" in create_event_source_poller.manager.list_names()
    assert "cmp-brokers" in set_event_source_config_defaults.manager.list_names()

    from cmp_localstack.offline_catalog import OfflineRuntimeCatalogPlugin
    from localstack.utils.catalog.common import CloudFormationResourcesSupportAtRuntime

    catalog = OfflineRuntimeCatalogPlugin()
    for resource_type, service in (("AWS::MSK::Cluster", "kafka"), ("AWS::MSK::ServerlessCluster", "kafka"), ("AWS::AmazonMQ::Broker", "mq")):
        assert catalog.get_cloudformation_resource_status(resource_type, service) == CloudFormationResourcesSupportAtRuntime.AVAILABLE


@pytest.mark.parametrize(
    "auth, client_broker, expected",
    [
        (None, None, {"BootstrapBrokerStringTls": KAFKA}),  # AWS's defaults: unauthenticated, TLS only
        ({"Unauthenticated": {"Enabled": True}}, "TLS_PLAINTEXT", {"BootstrapBrokerString": KAFKA, "BootstrapBrokerStringTls": KAFKA}),
        ({"Unauthenticated": {"Enabled": True}}, "PLAINTEXT", {"BootstrapBrokerString": KAFKA}),
        ({"Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}}}, "TLS",
         {"BootstrapBrokerStringSaslScram": KAFKA_SASL, "BootstrapBrokerStringSaslIam": KAFKA}),
        ({"Tls": {"Enabled": True, "CertificateAuthorityArnList": ["arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/x"]}},
         "TLS", {"BootstrapBrokerStringTls": KAFKA}),
    ],
)
def test_cluster_is_active_and_bootstrap_brokers_follow_its_authentication(kafka_api, auth, client_broker, expected):
    name = f"c-{uuid.uuid4().hex[:8]}"
    params = {"ClusterName": name, "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2, "BrokerNodeGroupInfo": BROKER_NODES}
    if auth:
        params["ClientAuthentication"] = auth
    if client_broker:
        params["EncryptionInfo"] = {"EncryptionInTransit": {"ClientBroker": client_broker}}
    created = kafka_api.create_cluster(**params)
    arn = created["ClusterArn"]
    try:
        assert created["State"] == "CREATING"  # as AWS answers; describe shows it ACTIVE
        assert re.fullmatch(CLUSTER_ARN.format(name=name, suffix="1"), arn)
        assert kafka_api.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
        brokers = {k: v for k, v in kafka_api.get_bootstrap_brokers(ClusterArn=arn).items() if k != "ResponseMetadata"}
        assert brokers == expected
    finally:
        assert kafka_api.delete_cluster(ClusterArn=arn)["State"] == "DELETING"


def test_v2_provisioned_and_serverless_clusters(kafka_api):
    name = f"v2-{uuid.uuid4().hex[:8]}"
    provisioned = kafka_api.create_cluster_v2(ClusterName=name, Provisioned={
        "BrokerNodeGroupInfo": BROKER_NODES, "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2,
        "ClientAuthentication": {"Sasl": {"Scram": {"Enabled": True}}},
    })["ClusterArn"]
    serverless = kafka_api.create_cluster_v2(ClusterName=name + "-s", Serverless={
        "VpcConfigs": [{"SubnetIds": ["subnet-1"]}], "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
    })["ClusterArn"]
    try:
        assert re.fullmatch(CLUSTER_ARN.format(name=name + "-s", suffix="s1"), serverless)
        info = kafka_api.describe_cluster_v2(ClusterArn=provisioned)["ClusterInfo"]
        assert info["State"] == "ACTIVE" and info["Provisioned"]["ClientAuthentication"]["Sasl"]["Scram"]["Enabled"]
        assert kafka_api.get_bootstrap_brokers(ClusterArn=provisioned)["BootstrapBrokerStringSaslScram"] == KAFKA_SASL
        assert kafka_api.describe_cluster_v2(ClusterArn=serverless)["ClusterInfo"]["ClusterType"] == "SERVERLESS"
        brokers = kafka_api.get_bootstrap_brokers(ClusterArn=serverless)
        assert brokers["BootstrapBrokerStringSaslIam"] == KAFKA and "BootstrapBrokerString" not in brokers
    finally:
        kafka_api.delete_cluster(ClusterArn=provisioned)
        kafka_api.delete_cluster(ClusterArn=serverless)


def test_unknown_cluster_and_broker_are_not_found(kafka_api, mq_api):
    missing = "arn:aws:kafka:us-east-1:000000000000:cluster/none/00000000-0000-0000-0000-000000000000-1"
    for call in (kafka_api.describe_cluster, kafka_api.describe_cluster_v2, kafka_api.get_bootstrap_brokers, kafka_api.delete_cluster):
        with pytest.raises(ClientError) as e:
            call(ClusterArn=missing)
        assert e.value.response["Error"]["Code"] == "NotFoundException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for call in (mq_api.describe_broker, mq_api.delete_broker):
        with pytest.raises(ClientError) as e:
            call(BrokerId="b-00000000-0000-0000-0000-000000000000")
        assert e.value.response["Error"]["Code"] == "NotFoundException"


def test_mq_brokers_are_running_with_aws_ids_and_local_endpoints(mq_api):
    common = {"HostInstanceType": "mq.t3.micro", "DeploymentMode": "SINGLE_INSTANCE", "PubliclyAccessible": False,
              "AutoMinorVersionUpgrade": True, "Users": [{"Username": "cmp", "Password": "cmp-secret-long"}]}
    rabbit = mq_api.create_broker(BrokerName="rabbit-x", EngineType="RABBITMQ", EngineVersion="3.13", **common)
    active = mq_api.create_broker(BrokerName="active-x", EngineType="ACTIVEMQ", EngineVersion="5.17.6", **common)
    try:
        assert re.fullmatch(r"b-[0-9a-f-]{36}", rabbit["BrokerId"])
        assert rabbit["BrokerArn"] == f"arn:aws:mq:us-east-1:000000000000:broker:rabbit-x:{rabbit['BrokerId']}"
        described = mq_api.describe_broker(BrokerId=rabbit["BrokerId"])
        assert described["BrokerState"] == "RUNNING"
        assert described["BrokerInstances"][0]["Endpoints"] == [RABBITMQ]
        endpoints = mq_api.describe_broker(BrokerId=active["BrokerId"])["BrokerInstances"][0]["Endpoints"]
        assert [e.split("://")[0] for e in endpoints] == ["tcp", "amqp", "stomp", "mqtt"] and ACTIVEMQ_STOMP in endpoints
    finally:
        mq_api.delete_broker(BrokerId=rabbit["BrokerId"])
        mq_api.delete_broker(BrokerId=active["BrokerId"])


def test_broker_users_become_users_of_the_local_brokers(mq_api):
    pika = pytest.importorskip("pika")
    stomp = pytest.importorskip("stomp")
    require_broker(RABBITMQ, "RabbitMQ")
    require_broker(ACTIVEMQ_STOMP, "ActiveMQ (STOMP)")
    alice, bob, carol = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("alice", "bob", "carol"))
    common = {"HostInstanceType": "mq.t3.micro", "DeploymentMode": "SINGLE_INSTANCE", "PubliclyAccessible": False,
              "AutoMinorVersionUpgrade": True}
    rabbit = mq_api.create_broker(BrokerName="users-r", EngineType="RABBITMQ", EngineVersion="3.13",
                                  Users=[{"Username": alice, "Password": "alice-password"}], **common)
    active = mq_api.create_broker(BrokerName="users-a", EngineType="ACTIVEMQ", EngineVersion="5.17.6",
                                  Users=[{"Username": bob, "Password": "bob-password", "Groups": ["admins"]}], **common)
    try:
        assert mq_api.describe_broker(BrokerId=rabbit["BrokerId"])["BrokerInstances"][0]["ConsoleURL"].startswith("http://127.0.0.1:")
        host, port = host_port(RABBITMQ)
        for vhost in ("/", "cmp"):
            pika.BlockingConnection(pika.ConnectionParameters(host, port, vhost, pika.PlainCredentials(alice, "alice-password"))).close()
        mq_api.create_user(BrokerId=active["BrokerId"], Username=carol, Password="carol-password")
        for user, password in ((bob, "bob-password"), (carol, "carol-password")):
            connection = stomp.Connection([host_port(ACTIVEMQ_STOMP)])
            connection.connect(user, password, wait=True)
            connection.disconnect()
        with pytest.raises(stomp.exception.ConnectFailedException):
            stomp.Connection([host_port(ACTIVEMQ_STOMP)]).connect(carol, "wrong", wait=True)
    finally:
        mq_api.delete_broker(BrokerId=rabbit["BrokerId"])
        mq_api.delete_broker(BrokerId=active["BrokerId"])


def test_cloudformation_serverless_cluster_feeds_a_function(aws_client, unique_name):
    """Ref/Arn of AWS::MSK::ServerlessCluster; an IAM-authenticated mapping reads the PLAINTEXT listener locally"""
    require_broker(KAFKA, "Kafka")
    kafka = pytest.importorskip("kafka")
    cfn, sqs = aws_client("cloudformation"), aws_client("sqs")
    topic = f"serverless-{unique_name}"
    producer = kafka.KafkaProducer(bootstrap_servers=KAFKA)
    producer.send(topic, b"from-serverless").get(10)
    producer.close()
    template = {
        "Resources": {
            "Cluster": {
                "Type": "AWS::MSK::ServerlessCluster",
                "Properties": {
                    "ClusterName": unique_name[:60],
                    "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}],
                    "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
                },
            },
            **function_resources(),
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"FunctionName": {"Ref": "Fn"}, "EventSourceArn": {"Ref": "Cluster"}, "Topics": [topic],
                               "StartingPosition": "TRIM_HORIZON"},
            },
        },
        "Outputs": {"Ref": {"Value": {"Ref": "Cluster"}}, "Arn": {"Value": {"Fn::GetAtt": ["Cluster", "Arn"]}},
                    "Sink": {"Value": {"Ref": "Sink"}}},
    }
    try:
        out = deploy(cfn, unique_name, template)
        assert out["Ref"] == out["Arn"] and re.fullmatch(CLUSTER_ARN.format(name=unique_name[:60], suffix="s1"), out["Arn"])
        event = receive(sqs, out["Sink"], 1)[0]
        assert event["eventSourceArn"] == out["Arn"] and event["bootstrapServers"] == KAFKA
    finally:
        delete(cfn, unique_name)
    with pytest.raises(ClientError):
        aws_client("kafka").describe_cluster_v2(ClusterArn=out["Arn"])  # the stack's delete deleted the cluster


def test_cloudformation_broker_attributes_and_delete(aws_client, unique_name):
    cfn, mq = aws_client("cloudformation"), aws_client("mq")
    template = {
        "Resources": {
            "Broker": {
                "Type": "AWS::AmazonMQ::Broker",
                "Properties": {
                    "BrokerName": unique_name[:50], "EngineType": "ACTIVEMQ", "EngineVersion": "5.17.6",
                    "HostInstanceType": "mq.t3.micro", "DeploymentMode": "SINGLE_INSTANCE", "PubliclyAccessible": False,
                    "Users": [{"Username": "cmp", "Password": "cmp-secret-long", "ConsoleAccess": True, "Groups": ["admins"]}],
                    "Logs": {"General": True},
                },
            },
        },
        "Outputs": {
            name: {"Value": value}
            for name, value in {
                "Id": {"Ref": "Broker"},
                "Arn": {"Fn::GetAtt": ["Broker", "Arn"]},
                "ConfigurationId": {"Fn::GetAtt": ["Broker", "ConfigurationId"]},
                "ConfigurationRevision": {"Fn::GetAtt": ["Broker", "ConfigurationRevision"]},
                "IpAddresses": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "IpAddresses"]}]},
                "OpenWire": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "OpenWireEndpoints"]}]},
                "Amqp": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "AmqpEndpoints"]}]},
                "Stomp": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "StompEndpoints"]}]},
                "Mqtt": {"Fn::Join": [",", {"Fn::GetAtt": ["Broker", "MqttEndpoints"]}]},
            }.items()
        },
    }
    try:
        out = deploy(cfn, unique_name, template)
        assert out["Arn"] == f"arn:aws:mq:us-east-1:000000000000:broker:{unique_name[:50]}:{out['Id']}"
        assert out["ConfigurationId"].startswith("c-") and out["ConfigurationRevision"] == "1"
        assert out["IpAddresses"] == "127.0.0.1"
        assert out["OpenWire"].startswith("tcp://") and out["Amqp"].startswith("amqp://")
        assert out["Stomp"] == ACTIVEMQ_STOMP and out["Mqtt"].startswith("mqtt://")
        assert mq.describe_broker(BrokerId=out["Id"])["Users"][0]["Username"] == "cmp"
    finally:
        delete(cfn, unique_name)
    with pytest.raises(ClientError):
        mq.describe_broker(BrokerId=out["Id"])


def test_installed_moto_has_the_shapes_the_patches_were_written_for():
    from cmp_localstack.brokers.parity import EXPECTED_SHAPES
    from cmp_localstack.ddb_moto.parity import check_moto_shapes

    assert check_moto_shapes(shapes=EXPECTED_SHAPES) == []
    changed = {**EXPECTED_SHAPES, ("mq/models.py", "Broker.__init__"): "0000000000000000"}
    assert check_moto_shapes(shapes=changed) == [
        "moto/mq/models.py: Broker.__init__ changed (fingerprint 585f84b3c6f23e58, expected 0000000000000000)"
    ]
