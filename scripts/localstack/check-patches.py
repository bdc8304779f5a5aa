#!/usr/bin/env python3
"""Start-time guard for the monkeypatches of LocalStack code (cmp_localstack's ``on_infra_start`` hooks).

Run it with the LocalStack venv's interpreter after the plugin package is installed:

    <venv>/bin/python scripts/localstack/check-patches.py                       # entry points + shapes
    <venv>/bin/python scripts/localstack/check-patches.py --print-fingerprints  # after a review

Exit 0: every hook below is installed as an entry point of ``localstack.hooks.on_infra_start``, LocalStack's hook
loader lists it, it imports (plux would silently drop one that does not), and every LocalStack function its patches replace or wrap still has
the fingerprint the patch was written for. Exit 1 with one line per problem otherwise. The same shape check
runs again when LocalStack starts and stops the start on a mismatch (``cmp_localstack/ls_shapes.py``).
"""

import importlib
import importlib.metadata
import sys

GROUP = "localstack.hooks.on_infra_start"
# entry point name -> module with EXPECTED_SHAPES
HOOKS = {
    "cmp_stream_esm_patches": "cmp_localstack.stream_esm.patches",
    "cmp_kinesis_cfn_patches": "cmp_localstack.kinesis_cfn.patches",
    "cmp_sfn_patches": "cmp_localstack.sfn.patches",
}


def main(argv: list[str]) -> int:
    from cmp_localstack import ls_shapes

    if "--print-fingerprints" in argv:
        for module in HOOKS.values():
            print(f"# {module}")
            for target, fp in ls_shapes.current(importlib.import_module(module).EXPECTED_SHAPES).items():
                print(f'    "{target}": "{fp}",')
        return 0
    from localstack.runtime import hooks

    problems = []
    seen = set(hooks.on_infra_start.manager.list_names())  # what LocalStack's own loader finds (plux cache)
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}
    for name, module in HOOKS.items():
        ep = eps.get(name)
        if ep is None:
            problems.append(f"entry point {name!r} (group {GROUP}) is not installed")
            continue
        if name not in seen:
            problems.append(f"LocalStack's hook loader does not see {name!r} (try: rm -rf ~/.cache/plux)")
        try:
            fn = ep.load()
            spec = fn.__pluginspec__
            assert spec.namespace == GROUP and spec.name == name, spec
            problems += ls_shapes.problems(importlib.import_module(module).EXPECTED_SHAPES)
        except Exception as e:  # noqa: BLE001
            problems.append(f"entry point {name!r} -> {ep.value}: {type(e).__name__}: {e}")
    if problems:
        print("check-patches: FAILED — the LocalStack patches cannot be applied as written:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"check-patches: OK ({', '.join(HOOKS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
