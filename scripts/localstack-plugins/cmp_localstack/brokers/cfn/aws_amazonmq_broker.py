"""``AWS::AmazonMQ::Broker`` -> ``mq:CreateBroker``; the broker is RUNNING at once with the local broker's endpoints.

Attributes: the endpoint lists are split by scheme like CloudFormation's (OpenWire ``tcp``/``ssl``, AMQP
``amqp``/``amqp+ssl``/``amqps``, STOMP, MQTT, WSS); locally they are the plain-text ports of ``scripts/brokers.sh``.
"""

from pathlib import Path

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ProgressEvent, ResourceProvider, ResourceRequest

from .common import picked, success

API_KEYS = (
    "BrokerName", "EngineType", "EngineVersion", "HostInstanceType", "DeploymentMode", "PubliclyAccessible",
    "AutoMinorVersionUpgrade", "AuthenticationStrategy", "Configuration", "EncryptionOptions", "LdapServerMetadata",
    "Logs", "MaintenanceWindowStartTime", "SecurityGroups", "StorageType", "SubnetIds", "DataReplicationMode",
)
USER_KEYS = ("Username", "Password", "ConsoleAccess", "Groups", "ReplicationUser")
ENDPOINT_ATTRIBUTES = {
    "tcp": "OpenWireEndpoints", "ssl": "OpenWireEndpoints",
    "amqp": "AmqpEndpoints", "amqp+ssl": "AmqpEndpoints", "amqps": "AmqpEndpoints",
    "stomp": "StompEndpoints", "stomp+ssl": "StompEndpoints",
    "mqtt": "MqttEndpoints", "mqtt+ssl": "MqttEndpoints",
    "ws": "WssEndpoints", "wss": "WssEndpoints",
}


class AmazonMqBrokerProvider(ResourceProvider[dict]):
    TYPE = "AWS::AmazonMQ::Broker"
    SCHEMA = util.get_schema_path(Path(__file__))

    def create(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        model = request.desired_state
        mq = request.aws_client_factory.mq
        params = picked(model, API_KEYS)
        if "Configuration" in params:
            params["Configuration"] = {"Id": params["Configuration"]["Id"], "Revision": int(params["Configuration"]["Revision"])}
        params["Users"] = [picked(user, USER_KEYS) for user in model.get("Users", [])]
        if model.get("Tags"):
            params["Tags"] = {t["Key"]: t["Value"] for t in model["Tags"]}
        model["Id"] = mq.create_broker(**params)["BrokerId"]
        described = mq.describe_broker(BrokerId=model["Id"])
        model["Arn"] = described["BrokerArn"]
        configuration = described.get("Configurations", {}).get("Current", {})
        model["ConfigurationId"] = configuration.get("Id")
        # a string, as GetAtt gives it (LocalStack drops stack outputs that resolve to numbers)
        model["ConfigurationRevision"] = str(configuration.get("Revision", ""))
        instances = described.get("BrokerInstances", [])
        model["IpAddresses"] = [i["IpAddress"] for i in instances if i.get("IpAddress")]
        for attribute in set(ENDPOINT_ATTRIBUTES.values()):
            model[attribute] = []
        for endpoint in (e for i in instances for e in i.get("Endpoints", [])):
            model[ENDPOINT_ATTRIBUTES[endpoint.split("://", 1)[0]]].append(endpoint)
        return success(model)

    def read(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        request.aws_client_factory.mq.describe_broker(BrokerId=request.desired_state["Id"])
        return success(request.desired_state)

    def delete(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        mq = request.aws_client_factory.mq
        try:
            mq.delete_broker(BrokerId=request.desired_state["Id"])
        except mq.exceptions.NotFoundException:
            pass
        return success(request.desired_state)
