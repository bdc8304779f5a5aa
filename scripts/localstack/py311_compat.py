"""Python < 3.13 compatibility shim for localstack-core 4.13.1 (installed into .venv-localstack by
scripts/localstack.sh as ``cmp_localstack_py311_compat.py`` plus a ``.pth`` line that imports it).

LocalStack 4.13.1 is built and tested on Python 3.13 (its image is python:3.13). One module does
not import on 3.11/3.12: ``localstack/packages/api.py`` annotates ``install_lock: Lock | None``,
which Python evaluates at definition time, and ``threading.Lock`` is a function before 3.13
(``TypeError: unsupported operand type(s) for |: 'builtin_function_or_method' and 'NoneType'``).
About 235 LocalStack modules import it, among them Step Functions, Kinesis, OpenSearch and every
package installer, so those services fail on their first request.

The fix: compile exactly that module with postponed evaluation of annotations (PEP 563), which
is what ``from __future__ import annotations`` at its top would do.

Python < 3.12 only: ``uuid.uuid5``/``uuid.uuid3`` accept a ``bytes`` name from 3.12 on, and the KMS
provider passes one (``localstack/services/kms/models.py``, ``generate_key_material_id``): on 3.11
every ``CreateKey`` failed with ``TypeError: encoding without a string argument`` (an InternalError
to the caller), so no customer managed key, and no stack with one, could be created. The functions
are replaced by their 3.12 implementation, which is the same for ``str`` names.
"""

import sys

if sys.version_info < (3, 13):
    import __future__
    import importlib.abc
    import importlib.machinery

    _TARGETS = frozenset({"localstack.packages.api"})

    class _PostponedAnnotationsLoader(importlib.machinery.SourceFileLoader):
        def get_code(self, fullname):
            # always compile from source: a cached .pyc was compiled without the flag
            source = self.get_data(self.path)
            return compile(
                source, self.path, "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True
            )

    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            if fullname not in _TARGETS:
                return None
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
                spec.loader = _PostponedAnnotationsLoader(spec.loader.name, spec.loader.path)
            return spec

    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())

if sys.version_info < (3, 12):
    import hashlib
    import uuid

    def _uuid3(namespace, name):
        if isinstance(name, str):
            name = bytes(name, "utf-8")
        digest = hashlib.md5(namespace.bytes + bytes(name), usedforsecurity=False).digest()
        return uuid.UUID(bytes=digest[:16], version=3)

    def _uuid5(namespace, name):
        if isinstance(name, str):
            name = bytes(name, "utf-8")
        digest = hashlib.sha1(namespace.bytes + bytes(name), usedforsecurity=False).digest()
        return uuid.UUID(bytes=digest[:16], version=5)

    uuid.uuid3 = _uuid3
    uuid.uuid5 = _uuid5
