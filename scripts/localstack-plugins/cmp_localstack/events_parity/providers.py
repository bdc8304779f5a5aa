"""LocalStack provider plugin (entry point ``events:parity`` in group ``localstack.aws.provider``; the module attribute
is the plux ``PluginSpec`` that ``@aws_provider`` returns):

* ``events:parity`` -> ``PROVIDER_OVERRIDE_EVENTS=parity``

Registered like LocalStack's own ``events`` provider (localstack/services/providers.py), without a moto fallback.
Keep this module import-light: plux imports it to list plugins, the factory imports the rest on load.
"""

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="events", name="parity")
def events_parity():
    from cmp_localstack import localstack_shapes

    localstack_shapes.require("events_parity")  # a LocalStack it was not written for: the service fails to load

    from .provider import EventsParityProvider

    return Service.for_provider(EventsParityProvider())
