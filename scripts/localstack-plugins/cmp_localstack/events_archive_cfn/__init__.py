"""CloudFormation resource provider for ``AWS::Events::Archive`` (LocalStack 4.13.1 community has none: with
``CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0`` a stack with ``new events.Archive(...)`` or ``bus.archive(...)`` fails,
with ``=1`` it "deploys" without an archive).

Entry point ``AWS::Events::Archive`` in group ``localstack.cloudformation.resource_providers`` (``plugin``), the
provider in ``aws_events_archive`` with the registry schema next to it. Being a loaded resource provider also makes
the offline catalog (``cmp_localstack.offline_catalog``) report the type AVAILABLE.
"""
