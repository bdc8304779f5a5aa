"""LocalStack provider plugins (entry points in group ``localstack.aws.provider``; the module attributes are the
plux ``PluginSpec``s that ``@aws_provider`` returns):

* ``dynamodb:moto``        -> ``PROVIDER_OVERRIDE_DYNAMODB=moto``
* ``dynamodbstreams:moto`` -> ``PROVIDER_OVERRIDE_DYNAMODBSTREAMS=moto``

Always select both: LocalStack's own streams providers read state of LocalStack's own DynamoDB providers.
Keep this module import-light: plux imports it to list plugins, the factories import the rest on load.
"""

from localstack.services.plugins import Service, aws_provider


def _moto_service(make_provider):
    """A LocalStack service of ``make_provider()`` whose unhandled operations go to moto, with the patches on."""
    from localstack.aws.forwarder import ForwardingFallbackDispatcher

    from .common import forward_to_moto
    from .patches import apply_moto_patches

    apply_moto_patches()
    return Service.for_provider(
        make_provider(),
        dispatch_table_factory=lambda provider: ForwardingFallbackDispatcher(provider, forward_to_moto),
    )


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto():
    from .dynamodb import MotoDynamoDBProvider

    return _moto_service(MotoDynamoDBProvider)


@aws_provider(api="dynamodbstreams", name="moto")
def dynamodbstreams_moto():
    from .streams import MotoDynamoDBStreamsProvider

    return _moto_service(MotoDynamoDBStreamsProvider)
