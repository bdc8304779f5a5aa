"""plux entry point (group ``localstack.hooks.on_infra_start``, name ``cmp_stream_esm_patches``).

Import-light: plux imports this module to list hooks. The hook runs once at LocalStack's start; a patch whose
LocalStack code changed raises there, and the runtime does not start (see ``cmp_localstack/ls_shapes.py``).
"""

from localstack.runtime import hooks


@hooks.on_infra_start()
def cmp_stream_esm_patches():
    from .patches import apply

    apply()
