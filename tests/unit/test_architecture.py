"""The core decides, the edges do I/O: core packages import no framework and touch no I/O.

Fails when a module under a core package imports asyncio, sockets, time, SQLAlchemy,
FastAPI/Starlette, httpx or redis (STYLE.md, "Size, names, checks").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "lendline"
CORE = [
    "domain",
    "routing",
    "dialogue",
    "compliance",
    "telephony/sip",
    "telephony/rtp",
    "outbound",
    "telephony/media/mixer.py",  # the supervision mix and who-hears-whom table
    "telephony/supervision_state.py",  # the supervisor leg's state table
]
FORBIDDEN = {
    "asyncio",
    "socket",
    "time",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "httpx",
    "redis",
    "uvicorn",
    "lendline.store",
    "lendline.web",
}
# edge modules that live beside the core they serve (adapters; each does I/O on purpose)
EDGE_ALLOWED = {
    "outbound/service.py",  # campaign service on the store
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_modules() -> list[Path]:
    out = []
    for pkg in CORE:
        root = SRC / pkg
        if root.is_file():
            out.append(root)
        elif root.is_dir():
            out.extend(sorted(root.rglob("*.py")))
    return out


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_core_module_does_no_io(path: Path) -> None:
    rel = str(path.relative_to(SRC))
    if rel in EDGE_ALLOWED or "/adapters/" in rel or rel.endswith(("_io.py", "_store.py")):
        pytest.skip("edge adapter")
    bad = {
        name for name in _imports(path) for f in FORBIDDEN if name == f or name.startswith(f + ".")
    }
    assert not bad, f"{rel} imports {sorted(bad)}: keep I/O at the edges"
