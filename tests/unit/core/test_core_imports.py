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
ALLOWED_ROOTS = {"streams", "schemas", "pydantic", "__future__"}


def _imports(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_stdlib_pydantic_and_schemas() -> None:
    import sys

    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        roots = _imports(path)
        assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
        foreign = {r for r in roots if r not in ALLOWED_ROOTS and r not in sys.stdlib_module_names}
        assert not foreign, f"{path.name} imports {foreign}"
