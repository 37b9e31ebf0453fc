"""How the code is laid out: rules a newcomer can rely on when reading it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skillsup"
BLUEPRINTS = ["admin", "auth", "catalogue", "certificates", "hr", "learning", "main", "trainer"]


def _modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_a_blueprints_url_map_is_its_routes_module_alone(blueprint):
    """Every route of a blueprint is in ``<blueprint>/routes.py``: no view module registers
    routes of its own or needs importing for its side effects."""
    for path in _modules(PACKAGE / blueprint):
        tree = ast.parse(path.read_text())
        registers = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr in {"route", "get", "post", "add_url_rule", "before_request"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "bp"
        ]
        if path.name == "routes.py":
            assert registers, path
        else:
            assert not registers, f"{path} registers routes outside routes.py"


def _session_commits(path: Path) -> list[int]:
    """Where a module commits the session (releasing a savepoint, or the outbox's delivery
    committing on a connection of its own, is not that)."""
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
        and ast.unparse(node.func.value) in {"db.session", "session"}
    ]


@pytest.mark.parametrize("folder", [*BLUEPRINTS, "services"])
def test_only_the_unit_of_work_commits(folder):
    """Views and services never commit: the unit of work at the edge (``web.unit_of_work``,
    ``cli.unit_of_work``) commits once per request or command."""
    for path in _modules(PACKAGE / folder):
        assert not _session_commits(path), f"{path} commits"
