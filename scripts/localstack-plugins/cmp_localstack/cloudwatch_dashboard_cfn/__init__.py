"""CloudFormation resource provider for ``AWS::CloudWatch::Dashboard`` (LocalStack 4.13.1 community has none: with
``CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0`` a stack with a dashboard fails to deploy).

Entry point ``AWS::CloudWatch::Dashboard`` in group ``localstack.cloudformation.resource_providers`` (``plugin``),
the provider in ``aws_cloudwatch_dashboard`` with the registry schema next to it. Being a loaded resource provider
also makes the offline catalog report the type AVAILABLE.
"""
