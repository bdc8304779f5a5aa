"""plux entry point (group ``localstack.lambda.runtime_executor``, name ``process``).

plux imports this module while it indexes entry points; an import error would silently drop the
plugin and LocalStack would log 'Falling back to "docker" runtime executor'. So this module imports
nothing but the plugin base class (which only imports plux).
"""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    # plux indexes plugins by this attribute, not by the entry-point name: keep both "process".
    name = "process"

    def load(self, *args, **kwargs):
        # LocalStack calls .load() on every get_runtime_executor() call: return the class, cheaply.
        from cmp_localstack.lambda_process.executor import ProcessRuntimeExecutor

        return ProcessRuntimeExecutor
