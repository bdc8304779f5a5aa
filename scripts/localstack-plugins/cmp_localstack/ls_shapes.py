"""Shape guards for the monkeypatches of LocalStack code (the ``on_infra_start`` plugins).

A patch names every LocalStack function it replaces or wraps, with the fingerprint of the source it was
written against: the sha256 of ``ast.dump`` of the definition (comments and formatting do not count; the
values are for Python 3.11). ``problems()`` lists what differs; ``require()`` raises, which stops
LocalStack's start (an ``on_infra_start`` hook that raises ends the runtime) instead of a patch that
silently does nothing. ``scripts/localstack/check-patches.py`` runs the same check before the start and
prints the current fingerprints (``--print-fingerprints``) after a review against a new LocalStack.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import textwrap


def resolve(target: str):
    """``"package.module:Class.method"`` -> the object (the plain function for methods)."""
    module_name, qualname = target.split(":")
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = inspect.getattr_static(obj, part) if inspect.isclass(obj) else getattr(obj, part)
    obj = getattr(obj, "__func__", obj)  # staticmethod / classmethod
    return getattr(obj, "__wrapped__", obj) if getattr(obj, "__cmp_patch__", False) else obj


def fingerprint(obj) -> str:
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:16]


def current(expected: dict[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for target in expected:
        try:
            out[target] = fingerprint(resolve(target))
        except (ImportError, AttributeError, OSError, TypeError, ValueError):
            out[target] = None
    return out


def problems(expected: dict[str, str]) -> list[str]:
    result = []
    for target, actual in current(expected).items():
        if actual is None:
            result.append(f"{target}: not found")
        elif actual != expected[target]:
            result.append(f"{target}: changed (fingerprint {actual}, expected {expected[target]})")
    return result


def require(expected: dict[str, str], what: str) -> None:
    found = problems(expected)
    if found:
        raise RuntimeError(
            f"{what}: LocalStack code differs from what the patches were written for; review them, then "
            f"update the fingerprints (scripts/localstack/check-patches.py --print-fingerprints): " + "; ".join(found)
        )


def mark(wrapper, original):
    """Tag ``wrapper`` as our patch of ``original`` (idempotent patching, shapes of the original)."""
    wrapper.__wrapped__ = original
    wrapper.__cmp_patch__ = True
    return wrapper


def is_patched(obj) -> bool:
    return getattr(obj, "__cmp_patch__", False)
