"""What the EventBridge and SNS plugins rely on in LocalStack 4.13.1, as fingerprints of its installed source.

``events_parity`` subclasses LocalStack's EventBridge provider and replaces or extends some of its methods;
``sns_batch_dlq`` patches one SNS model. Both were written against the definitions listed below. When LocalStack
changes under them, the plugins refuse to load (``require``) and ``scripts/localstack.sh start`` refuses to start
(``python -m cmp_localstack.localstack_shapes``), instead of silently doing nothing or something else.

A fingerprint is the sha256 of ``ast.dump`` of the definition (comments and formatting do not count; ``ast.dump``
may differ between Python minor versions: the values are for the project's Python 3.11). Pure standard library,
LocalStack is read, not imported. After reviewing a plugin against a new LocalStack, print the new values with
``<venv>/bin/python -m cmp_localstack.localstack_shapes --print`` and paste them below.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import os
import sys

EXPECTED_VERSION = "4.13.1"

# plugin -> {(file relative to the localstack package, dotted qualname): fingerprint}
EXPECTED_SHAPES: dict[str, dict[tuple[str, str], str]] = {
    "events_parity": {
        # replaced or extended by EventsParityProvider
        ("services/events/provider.py", "EventsProvider._process_rules"): "c709cde239176f7a",
        ("services/events/provider.py", "EventsProvider.start_replay"): "cb261b126505a5aa",
        ("services/events/provider.py", "EventsProvider.update_archive"): "4575fdf7535ccb45",
        ("services/events/target.py", "StatesTargetSender"): "8ffc800ef5208ec0",
        ("services/events/event_rule_engine.py", "EventRuleEngine._evaluate_wildcard"): "86d3e37a2624358d",
        # called, or relied on to call what is replaced
        ("services/events/provider.py", "EventsProvider._process_rules_async"): "c594423958936fda",
        ("services/events/provider.py", "EventsProvider._put_to_archive"): "27df43a1a5d2263b",
        ("services/events/provider.py", "EventsProvider._validate_replay_time"): "471b91d1c4bcecd5",
        ("services/events/provider.py", "EventsProvider._validate_replay_destination"): "b3fe24c2535bb493",
        ("services/events/provider.py", "EventsProvider.create_replay_service"): "ea692d608b561317",
        ("services/events/provider.py", "EventsProvider.cancel_replay"): "a4347463018377f8",
        ("services/events/archive.py", "ArchiveService._create_archive_rule"): "b9c754b620345da2",
        ("services/events/replay.py", "ReplayService.__init__"): "16880c44cfb448e8",
        ("services/events/replay.py", "ReplayService.stop"): "3c8cd309c67f4436",
        ("services/events/target.py", "TargetSender.process_event"): "5360e7f557cb97b1",
        ("services/events/target.py", "TargetSenderFactory.get_target_sender"): "c9bc7f9d03385cb2",
        ("services/events/utils.py", "format_event"): "10b1b48672f00e9c",
        ("services/events/models.py", "Replay"): "c3206d862d9aaf55",
        ("services/events/models.py", "Rule"): "2c4ed7d76dc26144",
    },
    "sns_batch_dlq": {
        ("services/sns/publisher.py", "SqsBatchTopicPublisher._publish"): "36d3391297aeeca3",
        ("services/sns/models.py", "SnsMessage"): "f521bcd30f203cbc",
    },
}


def localstack_dir() -> str | None:
    spec = importlib.util.find_spec("localstack")
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _find(tree: ast.AST, qualname: str) -> ast.AST | None:
    node = tree
    for part in qualname.split("."):
        node = next(
            (
                n
                for n in getattr(node, "body", [])
                if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            return None
    return node


def fingerprints(plugin: str, root: str | None = None) -> dict[tuple[str, str], str | None]:
    """Current fingerprint of every definition ``plugin`` relies on (None: file or definition missing)."""
    root = root or localstack_dir()
    trees: dict[str, ast.AST | None] = {}
    result: dict[tuple[str, str], str | None] = {}
    for rel, qualname in EXPECTED_SHAPES[plugin]:
        if rel not in trees:
            try:
                with open(os.path.join(root or "", rel), encoding="utf-8") as f:
                    trees[rel] = ast.parse(f.read())
            except (OSError, SyntaxError):
                trees[rel] = None
        node = _find(trees[rel], qualname) if trees[rel] is not None else None
        result[(rel, qualname)] = (
            hashlib.sha256(ast.dump(node, include_attributes=False).encode()).hexdigest()[:16] if node else None
        )
    return result


def problems(plugin: str) -> list[str]:
    try:
        version = importlib.metadata.version("localstack-core")
    except importlib.metadata.PackageNotFoundError:
        return ["localstack-core is not installed"]
    if version != EXPECTED_VERSION:
        return [f"localstack-core=={version} installed, {plugin} was written for {EXPECTED_VERSION}"]
    found = []
    for (rel, qualname), actual in fingerprints(plugin).items():
        expected = EXPECTED_SHAPES[plugin][(rel, qualname)]
        if actual is None:
            found.append(f"localstack/{rel}: {qualname} not found")
        elif actual != expected:
            found.append(f"localstack/{rel}: {qualname} changed (fingerprint {actual}, expected {expected})")
    return found


def require(plugin: str) -> None:
    """Raises when LocalStack is not what ``plugin`` was written for (called when the plugin loads)."""
    found = problems(plugin)
    if found:
        raise RuntimeError(f"cmp_localstack.{plugin} does not match the installed LocalStack: " + "; ".join(found))


def main(argv: list[str]) -> int:
    if "--print" in argv:
        for plugin in EXPECTED_SHAPES:
            print(f"    # {plugin}")
            for (rel, qualname), fp in fingerprints(plugin).items():
                print(f'        ("{rel}", "{qualname}"): "{fp}",')
        return 0
    found = {plugin: problems(plugin) for plugin in EXPECTED_SHAPES}
    if any(found.values()):
        print("localstack_shapes: FAILED - LocalStack is not what the plugins were written for:", file=sys.stderr)
        for plugin, items in found.items():
            for item in items:
                print(f"  - {plugin}: {item}", file=sys.stderr)
        return 1
    total = sum(len(shapes) for shapes in EXPECTED_SHAPES.values())
    print(f"localstack_shapes: OK (localstack-core=={EXPECTED_VERSION}, {total} definitions as expected)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
