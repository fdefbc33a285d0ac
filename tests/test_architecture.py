"""The house rules that imports can break, read from the source: no circle of imports
between the project's modules, and no arrow from a lower area up into a higher one.

Imports inside functions count too (a deferred import is still a dependency; it only
hides a circle from Python). The rules are ../shared/ARCHITECTURE.md's and
docs/ARCHITECTURE.md's.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "certification"

# The faces turn a request or a command into service calls; nothing below may use them.
FACES = (
    "certification.admin",
    "certification.api",
    "certification.portal",
    "certification.verify",
    "certification.cli",
    "certification.auth.views",
)
# The domain: the work itself. It announces what happened (signals, rows) and never
# reaches up into the queue, the mail area or a face.
DOMAIN = (
    "certification.progress",
    "certification.catalogue",
    "certification.records",
    "certification.claims",
    "certification.certificates",
    "certification.credentials",
    "certification.auth.services",
    "certification.auth.models",
    "certification.audit",
    "certification.idempotency",
)
QUEUE = ("certification.queue", "certification.tasks")
QUEUE_AND_MAIL = (*QUEUE, "certification.mail")
# Work that spans areas (spreadsheets, the dashboard, the outbox): above the domain, below
# the queue's side and the faces.
APPLICATION = (
    "certification.imports",
    "certification.reports",
    "certification.mail",
    "certification.demo",
    "certification.backup",
    "certification.privacy",
    "certification.privacy_models",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imported(module: str, path: Path) -> Iterator[str]:
    """The project's modules that ``module`` imports, wherever in the file it does."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports that module; otherwise the package.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


GRAPH = {module: set(_imported(module, path)) for module, path in MODULES.items()}


def _within(module: str, areas: tuple[str, ...]) -> bool:
    return any(module == area or module.startswith(area + ".") for area in areas)


def _is_task_module(module: str) -> bool:
    """An area's ``tasks`` module is the queue's side of it: it may import the queue."""
    return module.endswith(".tasks")


def _circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in GRAPH[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_the_reader_sees_the_imports_it_must():
    # A reader that saw nothing would pass every rule below.
    assert "certification.extensions" in GRAPH["certification.certificates.services"]
    assert "certification.certificates.bulk" in GRAPH["certification.certificates.tasks"]
    assert "certification.tasks" in GRAPH["certification"]  # imported inside create_app


def test_no_circle_of_imports():
    assert _circles() == []


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        (DOMAIN, FACES),
        (DOMAIN, QUEUE_AND_MAIL),
        (APPLICATION, FACES),
        (APPLICATION, QUEUE),
        (QUEUE, FACES),
    ],
    ids=[
        "domain-to-face",
        "domain-to-queue-or-mail",
        "service-to-face",
        "service-to-queue",
        "queue-to-face",
    ],
)
def test_no_arrow_runs_back_up(lower: tuple[str, ...], higher: tuple[str, ...]):
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _within(module, lower)
        for target in targets
        if _within(target, higher) and not (_is_task_module(module) and _within(target, QUEUE))
    )
    assert upward == []


def test_faces_do_not_import_each_other():
    crossing = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for face in FACES
        if _within(module, (face,))
        for target in targets
        if _within(target, FACES) and not _within(target, (face,))
    )
    assert crossing == []


def test_the_rules_engine_and_the_renderer_stand_alone():
    assert not {t for t in GRAPH["certification.progress"] if t.startswith("certification")}
    assert "certification.extensions" not in GRAPH["certification.certificates.pdf"]
    # The PDF/A step (bytes to bytes) needs nothing of the project at all.
    pdfa = GRAPH["certification.certificates.pdfa"]
    assert not {t for t in pdfa if t.startswith("certification")}
    flask_users = [
        path
        for module, path in MODULES.items()
        if module == "certification.progress"
        and any(
            isinstance(node, ast.ImportFrom | ast.Import) and "flask" in ast.unparse(node)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert flask_users == []
