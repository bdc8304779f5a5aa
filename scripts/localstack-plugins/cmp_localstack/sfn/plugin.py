"""plux entry point (group ``localstack.hooks.on_infra_start``, name ``cmp_sfn_patches``); import-light,
a shape mismatch stops LocalStack's start (``cmp_localstack/ls_shapes.py``)."""

from localstack.runtime import hooks


@hooks.on_infra_start()
def cmp_sfn_patches():
    from .patches import apply

    apply()
