from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    ResourceProvider,
)


class CloudWatchDashboardProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::CloudWatch::Dashboard"

    def __init__(self):
        self.factory: type[ResourceProvider] | None = None

    def load(self):
        from .aws_cloudwatch_dashboard import CloudWatchDashboardProvider

        self.factory = CloudWatchDashboardProvider
