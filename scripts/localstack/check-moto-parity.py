#!/usr/bin/env python3
"""Install-time guard for the moto-backed providers: DynamoDB (spec test T0), Amazon MSK and Amazon MQ.

Run it with the LocalStack venv's interpreter after installing localstack-core and the plugin package:

    <venv>/bin/python scripts/localstack/check-moto-parity.py            # version + shapes + plugin entry points
    <venv>/bin/python scripts/localstack/check-moto-parity.py --no-plugins  # before the plugin package is installed

Exit 0: moto-ext is the version the patches in cmp_localstack/ddb_moto/patches.py and cmp_localstack/brokers/patches.py
were written for, every moto function they patch or rely on has the expected shape, and (unless --no-plugins) the
entry points ``dynamodb:moto`` / ``dynamodbstreams:moto`` / ``kafka:local`` / ``mq:local`` are installed, resolve to
LocalStack plugin specs and build their services (what LocalStack does on first use; this also applies the moto
patches in this throw-away process).
Exit 1 with one line per problem otherwise. Does not import moto (reads its source with ``ast``); takes < 1 s
without the plugin check, ~2-3 s with it (that imports LocalStack and moto's DynamoDB).
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(HERE, "..", "localstack-plugins", "cmp_localstack")
PARITY_PY = os.path.join(PLUGINS, "ddb_moto", "parity.py")
BROKERS_PARITY_PY = os.path.join(PLUGINS, "brokers", "parity.py")
ENTRY_POINT_GROUP = "localstack.aws.provider"
REQUIRED_PLUGINS = ("dynamodb:moto", "dynamodbstreams:moto", "kafka:local", "mq:local")


def load_parity(path=PARITY_PY, name="_cmp_ddb_moto_parity"):
    # by file path: works whether or not the plugin package is installed, and imports nothing else from it
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_plugins() -> list[str]:
    import importlib.metadata

    problems = []
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name in REQUIRED_PLUGINS:
        ep = eps.get(name)
        if ep is None:
            problems.append(
                f"entry point {name!r} (group {ENTRY_POINT_GROUP}) is not installed: "
                f"pip install --no-deps --no-build-isolation scripts/localstack-plugins"
            )
            continue
        try:
            obj = ep.load()  # plux would swallow an import error here and silently drop the provider
        except Exception as e:  # noqa: BLE001
            problems.append(f"entry point {name!r} -> {ep.value} does not import: {type(e).__name__}: {e}")
            continue
        from plux import PluginSpec

        if not isinstance(obj, PluginSpec) or obj.name != name or obj.namespace != ENTRY_POINT_GROUP:
            problems.append(f"entry point {name!r} -> {ep.value} is not the PluginSpec {ENTRY_POINT_GROUP}/{name}")
            continue
        # what LocalStack does when the service is first used: build the provider (applies the moto patches).
        # A failure here would show at runtime as health "error" and HTTP 500 on every DynamoDB call.
        api = name.split(":")[0]
        try:
            plugin = obj.factory()
            service = plugin.load()
        except Exception as e:  # noqa: BLE001
            problems.append(f"provider {name!r} fails to load: {type(e).__name__}: {e}")
            continue
        if getattr(service, "name", lambda: None)() != api:
            problems.append(f"provider {name!r} loaded a service for {service!r}, expected {api!r}")
    return problems


def main(argv: list[str]) -> int:
    parity = load_parity()
    brokers = load_parity(BROKERS_PARITY_PY, "_cmp_brokers_parity").EXPECTED_SHAPES
    if "--print-fingerprints" in argv:
        for title, shapes in (("ddb_moto/parity.py", None), ("brokers/parity.py", brokers)):
            print(f"# {title}")
            for (rel, qualname), fp in parity.fingerprints(None, shapes).items():
                print(f'    ("{rel}", "{qualname}"): "{fp}",')
        return 0
    moto_problems = parity.check_moto_version() + parity.check_moto_shapes() + parity.check_moto_shapes(shapes=brokers)
    plugin_problems = [] if "--no-plugins" in argv else check_plugins()
    if moto_problems or plugin_problems:
        print("check-moto-parity: FAILED — the moto-backed providers cannot be trusted:", file=sys.stderr)
        for p in moto_problems + plugin_problems:
            print(f"  - {p}", file=sys.stderr)
        if moto_problems:
            print(
                "  (review scripts/localstack-plugins/cmp_localstack/{ddb_moto,brokers}/patches.py against the installed "
                "moto, then update their parity.py with --print-fingerprints)",
                file=sys.stderr,
            )
        return 1
    print(f"check-moto-parity: OK ({parity.EXPECTED_DIST}=={parity.EXPECTED_VERSION}, "
          f"{len(parity.EXPECTED_SHAPES) + len(brokers)} moto definitions as expected"
          + ("" if "--no-plugins" in argv else ", dynamodb:moto + dynamodbstreams:moto installed, kafka:local + mq:local installed")
          + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
