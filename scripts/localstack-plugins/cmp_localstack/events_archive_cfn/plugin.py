from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    ResourceProvider,
)


class EventsArchiveProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::Events::Archive"

    def __init__(self):
        self.factory: type[ResourceProvider] | None = None

    def load(self):
        from .aws_events_archive import EventsArchiveProvider

        self.factory = EventsArchiveProvider
