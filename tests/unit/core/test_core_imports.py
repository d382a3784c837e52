"""The scoring core stays pure: no Kafka, stream, SQL or HTTP library anywhere under streams/core."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[3] / "streams" / "core"
FORBIDDEN = {
    "kafka",
    "aiokafka",
    "faust",
    "mode",
    "sqlalchemy",
    "psycopg",
    "fastapi",
    "httpx",
    "requests",
    "uvicorn",
}
ALLOWED_ROOTS = {"schemas", "pydantic", "__future__"}
CORE_PACKAGE = "streams.core"  # of our own worker package, the core itself alone


def _imports(path: Path) -> set[str]:
    """The modules a file imports (absolute imports; a relative one stays inside the core)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _allowed(name: str) -> bool:
    import sys

    root = name.split(".")[0]
    if root == "streams":
        return name == CORE_PACKAGE or name.startswith(CORE_PACKAGE + ".")
    return root in ALLOWED_ROOTS or root in sys.stdlib_module_names


def test_core_imports_only_stdlib_pydantic_schemas_and_itself() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        names = _imports(path)
        roots = {name.split(".")[0] for name in names}
        assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
        foreign = {name for name in names if not _allowed(name)}
        assert not foreign, f"{path.name} imports {foreign}"


def test_the_check_refuses_the_worker_package_and_foreign_libraries() -> None:
    assert _allowed("streams.core.engine") and _allowed("schemas.control") and _allowed("json")
    assert not _allowed("streams.follow") and not _allowed("streams") and not _allowed("numpy")
