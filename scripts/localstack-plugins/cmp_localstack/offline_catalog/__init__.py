"""An offline service catalog for LocalStack 4.13.1, so CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0 works.

LocalStack's CloudFormation engine (v2) asks a "catalog" whether each resource type of a change set is
supported (``change_set_resource_support_checker.py``). The catalog it prefers downloads LocalStack's
support matrix from the internet; offline that fails and LocalStack falls back to
``aws-catalog-runtime-only``, which answers ``None`` for every type. With
``CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0`` every resource type -- ``AWS::IAM::Role`` included -- is
then reported as unsupported and no stack deploys; with ``=1`` unsupported types are silently
"deployed" as no-ops and tests pass falsely.

This plugin fills the fallback slot LocalStack looks up first (``aws-catalog-runtime-only-with-license``,
see ``localstack/utils/catalog/plugins.py``) with a catalog that answers from what is installed: a
resource type is AVAILABLE when a CloudFormation resource provider for it is loaded, NOT_IMPLEMENTED
otherwise. Service status stays ``None``, as in the stock runtime-only catalog (it only words error
messages). Online, LocalStack's remote catalog loads first and this plugin is not used.
"""
from localstack.utils.catalog.catalog import CatalogPlugin
from localstack.utils.catalog.common import CloudFormationResourcesSupportAtRuntime


class OfflineRuntimeCatalogPlugin(CatalogPlugin):
    name = "aws-catalog-runtime-only-with-license"

    def __init__(self) -> None:
        self._cfn_resources = None

    def get_aws_service_status(self, service_name, operation_name=None):
        return None

    def get_cloudformation_resource_status(self, resource_name, service_name, is_pro_resource=False):
        if self._cfn_resources is None:
            self._cfn_resources = self._get_cfn_resources_available_at_runtime()
        if resource_name in self._cfn_resources:
            return CloudFormationResourcesSupportAtRuntime.AVAILABLE
        return CloudFormationResourcesSupportAtRuntime.NOT_IMPLEMENTED
