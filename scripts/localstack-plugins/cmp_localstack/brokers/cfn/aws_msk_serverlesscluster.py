"""``AWS::MSK::ServerlessCluster`` -> ``kafka:CreateClusterV2`` with ``Serverless`` (IAM authentication only, as
on AWS; locally the IAM bootstrap string names the PLAINTEXT listener)."""

from pathlib import Path

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ProgressEvent, ResourceProvider, ResourceRequest

from .common import success


class MskServerlessClusterProvider(ResourceProvider[dict]):
    TYPE = "AWS::MSK::ServerlessCluster"
    SCHEMA = util.get_schema_path(Path(__file__))

    def create(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        model = request.desired_state
        serverless = {"VpcConfigs": model["VpcConfigs"], "ClientAuthentication": model["ClientAuthentication"]}
        params = {"ClusterName": model["ClusterName"], "Serverless": serverless}
        if model.get("Tags"):
            params["Tags"] = model["Tags"]
        model["Arn"] = request.aws_client_factory.kafka.create_cluster_v2(**params)["ClusterArn"]
        return success(model)

    def read(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        request.aws_client_factory.kafka.describe_cluster_v2(ClusterArn=request.desired_state["Arn"])
        return success(request.desired_state)

    def delete(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        kafka = request.aws_client_factory.kafka
        try:
            kafka.delete_cluster(ClusterArn=request.desired_state["Arn"])
        except kafka.exceptions.NotFoundException:
            pass
        return success(request.desired_state)
