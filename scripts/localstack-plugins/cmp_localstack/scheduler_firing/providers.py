"""LocalStack provider plugin (entry point ``scheduler:firing`` in group ``localstack.aws.provider``; the module
attribute is the plux ``PluginSpec`` that ``@aws_provider`` returns):

* ``scheduler:firing`` -> ``PROVIDER_OVERRIDE_SCHEDULER=firing``

Registered like LocalStack's own ``scheduler`` provider (localstack/services/providers.py): the provider with
moto as fallback for every operation, plus a lock around every operation that the firing loop shares.
Keep this module import-light: plux imports it to list plugins, the factory imports the rest on load.
"""

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="scheduler", name="firing")
def scheduler_firing():
    from localstack.services.moto import MotoFallbackDispatcher

    from .provider import FiringSchedulerProvider, locked_dispatch_table

    provider = FiringSchedulerProvider()
    return Service.for_provider(
        provider,
        dispatch_table_factory=lambda p: locked_dispatch_table(MotoFallbackDispatcher(p)),
    )
