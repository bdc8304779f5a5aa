from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    ResourceProvider,
)


class MskClusterProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::MSK::Cluster"

    def __init__(self):
        self.factory: type[ResourceProvider] | None = None

    def load(self):
        from .aws_msk_cluster import MskClusterProvider

        self.factory = MskClusterProvider


class MskServerlessClusterProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::MSK::ServerlessCluster"

    def __init__(self):
        self.factory: type[ResourceProvider] | None = None

    def load(self):
        from .aws_msk_serverlesscluster import MskServerlessClusterProvider

        self.factory = MskServerlessClusterProvider


class AmazonMqBrokerProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::AmazonMQ::Broker"

    def __init__(self):
        self.factory: type[ResourceProvider] | None = None

    def load(self):
        from .aws_amazonmq_broker import AmazonMqBrokerProvider

        self.factory = AmazonMqBrokerProvider
