"""``AWS::MSK::Cluster`` -> ``kafka:CreateCluster`` (the cluster is ACTIVE at once, see ``api``)."""

from pathlib import Path

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ProgressEvent, ResourceProvider, ResourceRequest

from .common import picked, renamed, success

API_KEYS = (
    "ClusterName", "BrokerNodeGroupInfo", "KafkaVersion", "NumberOfBrokerNodes", "ClientAuthentication",
    "ConfigurationInfo", "EncryptionInfo", "EnhancedMonitoring", "OpenMonitoring", "LoggingInfo", "StorageMode", "Tags",
)
TO_API = {"EBSStorageInfo": "EbsStorageInfo"}


class MskClusterProvider(ResourceProvider[dict]):
    TYPE = "AWS::MSK::Cluster"
    SCHEMA = util.get_schema_path(Path(__file__))

    def create(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        model = request.desired_state
        kafka = request.aws_client_factory.kafka
        model["Arn"] = kafka.create_cluster(**renamed(picked(model, API_KEYS), TO_API))["ClusterArn"]
        model["CurrentVersion"] = kafka.describe_cluster(ClusterArn=model["Arn"])["ClusterInfo"]["CurrentVersion"]
        return success(model)

    def read(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        request.aws_client_factory.kafka.describe_cluster(ClusterArn=request.desired_state["Arn"])
        return success(request.desired_state)

    def delete(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        kafka = request.aws_client_factory.kafka
        try:
            kafka.delete_cluster(ClusterArn=request.desired_state["Arn"])
        except kafka.exceptions.NotFoundException:
            pass
        return success(request.desired_state)
