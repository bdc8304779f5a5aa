"""LocalStack provider plugins (entry points in group ``localstack.aws.provider``; the module attributes are the
plux ``PluginSpec``s that ``@aws_provider`` returns):

* ``kafka:local`` -> ``PROVIDER_OVERRIDE_KAFKA=local``  (Amazon MSK on moto, clusters backed by the local Kafka)
* ``mq:local``    -> ``PROVIDER_OVERRIDE_MQ=local``     (Amazon MQ on moto, brokers backed by the local RabbitMQ/ActiveMQ)

Keep this module import-light: plux imports it to list plugins, the factories import the rest on load.
"""

from localstack.services.plugins import Service, aws_provider


class _Provider:
    """What ``Service.for_provider`` needs of a provider: its service name."""

    def __init__(self, service: str):
        self.service = service


def _service(api: str, handlers_name: str) -> Service:
    from . import api as api_module
    from .patches import apply_moto_patches

    apply_moto_patches()
    handlers = getattr(api_module, handlers_name)
    return Service.for_provider(
        _Provider(api), dispatch_table_factory=lambda p: api_module.dispatch_table(p.service, handlers)
    )


@aws_provider(api="kafka", name="local")
def kafka_local():
    return _service("kafka", "KAFKA_HANDLERS")


@aws_provider(api="mq", name="local")
def mq_local():
    return _service("mq", "MQ_HANDLERS")
