"""What the moto patches and the providers rely on, as fingerprints of the installed moto(-ext) source.

Pure standard library and no ``import moto``: used at install time by ``scripts/localstack/check-moto-parity.py``
(loaded by file path, so it also works before this package is installed) and at provider load time by
``patches.apply_moto_patches``.

A fingerprint is the sha256 of ``ast.dump`` of the function/class definition (comments and formatting do not
count; ``ast.dump`` output may differ between Python minor versions: the values below are for the project's
Python 3.11). To accept a new moto after reviewing the patches against it, run
``<venv>/bin/python scripts/localstack/check-moto-parity.py --print-fingerprints`` and paste the output below.
"""

import ast
import hashlib
import importlib.metadata
import importlib.util
import os

EXPECTED_DIST = "moto-ext"
EXPECTED_VERSION = "5.1.20.post22"

# (file relative to the moto package, dotted qualname) -> fingerprint, for moto-ext 5.1.20.post22
# (== upstream moto 5.1.20 for moto/dynamodb, moto/dynamodbstreams, moto/core).
EXPECTED_SHAPES: dict[tuple[str, str], str] = {
    # patched (patches.py)
    ("dynamodb/models/__init__.py", "DynamoDBBackend.transact_write_items"): "d157eb670d60cc2b",
    ("dynamodb/models/__init__.py", "DynamoDBBackend.update_table_streams"): "211234dc534a88e6",
    ("dynamodb/models/table.py", "StreamRecord.__init__"): "48d9bd577647ba11",
    # relied on by the patches and the providers
    ("dynamodb/models/__init__.py", "DynamoDBBackend.update_table"): "7bc116f0a5219ab0",
    ("dynamodb/models/table.py", "StreamShard"): "80fd5a3af0321e7f",
    ("dynamodb/models/table.py", "Table.__init__"): "1848d6fe1e943b8f",
    ("dynamodb/models/table.py", "Table.set_stream_specification"): "e9eeeed2fb546e97",
    ("dynamodb/models/table.py", "Table.describe"): "763310ee0ef75cc8",
    ("dynamodb/models/table.py", "Table.put_item"): "d9c7fffb464355c7",
    ("dynamodb/models/table.py", "Table.delete_item"): "133dd503a2642f9a",
    ("dynamodb/models/table.py", "Table.all_items"): "36f5a0eea46f851e",
    ("dynamodbstreams/models.py", "ShardIterator"): "fef75e3d638eed49",
    ("dynamodbstreams/models.py", "DynamoDBStreamsBackend.__init__"): "ff0df3cebcf6e44f",
    ("dynamodbstreams/models.py", "DynamoDBStreamsBackend.get_records"): "8542d8578ddc6d1c",
    ("dynamodbstreams/models.py", "DynamoDBStreamsBackend.list_streams"): "95d1cf6bf7c59177",
}


def moto_package_dir() -> str | None:
    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _find(tree: ast.AST, qualname: str) -> ast.AST | None:
    node = tree
    for part in qualname.split("."):
        body = getattr(node, "body", [])
        node = next(
            (
                n
                for n in body
                if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            return None
    return node


def fingerprints(moto_dir: str | None = None, shapes: dict | None = None) -> dict[tuple[str, str], str | None]:
    """Current fingerprint of every entry of ``shapes`` (default EXPECTED_SHAPES; None: file or definition missing)."""
    moto_dir = moto_dir or moto_package_dir()
    result: dict[tuple[str, str], str | None] = {}
    trees: dict[str, ast.AST | None] = {}
    for rel, qualname in EXPECTED_SHAPES if shapes is None else shapes:
        if rel not in trees:
            path = os.path.join(moto_dir, rel) if moto_dir else None
            try:
                with open(path, encoding="utf-8") as f:
                    trees[rel] = ast.parse(f.read(), filename=path)
            except (OSError, TypeError, SyntaxError):
                trees[rel] = None
        tree = trees[rel]
        node = _find(tree, qualname) if tree is not None else None
        result[(rel, qualname)] = (
            hashlib.sha256(ast.dump(node, include_attributes=False).encode()).hexdigest()[:16]
            if node is not None
            else None
        )
    return result


def check_moto_version() -> list[str]:
    try:
        version = importlib.metadata.version(EXPECTED_DIST)
    except importlib.metadata.PackageNotFoundError:
        others = []
        for name in ("moto",):
            try:
                others.append(f"{name}=={importlib.metadata.version(name)}")
            except importlib.metadata.PackageNotFoundError:
                pass
        return [
            f"distribution {EXPECTED_DIST} is not installed"
            + (f" (found {', '.join(others)})" if others else "")
            + f"; expected {EXPECTED_DIST}=={EXPECTED_VERSION}"
        ]
    if version != EXPECTED_VERSION:
        return [f"{EXPECTED_DIST}=={version} installed, the DynamoDB patches were written for {EXPECTED_VERSION}"]
    return []


def check_moto_shapes(moto_dir: str | None = None, shapes: dict | None = None) -> list[str]:
    """Problems with the installed moto against ``shapes`` (default EXPECTED_SHAPES; other plugins pass their own)."""
    shapes = EXPECTED_SHAPES if shapes is None else shapes
    moto_dir = moto_dir or moto_package_dir()
    if not moto_dir:
        return ["moto is not importable (no 'moto' package on sys.path)"]
    problems = []
    for (rel, qualname), actual in fingerprints(moto_dir, shapes).items():
        expected = shapes[(rel, qualname)]
        if actual is None:
            problems.append(f"moto/{rel}: {qualname} not found")
        elif actual != expected:
            problems.append(f"moto/{rel}: {qualname} changed (fingerprint {actual}, expected {expected})")
    return problems
