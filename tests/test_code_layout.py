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


@pytest.mark.hong_kong_day
def test_date_sensitive_tests_run_at_the_hong_kong_times_they_name(hong_kong_clock):
    from datetime import datetime, timedelta

    from skillsup.timeutil import HONG_KONG, today_hk

    from .conftest import HONG_KONG_CLOCKS

    if hong_kong_clock == "now":
        return
    wall = datetime.now(HONG_KONG)
    expected = datetime.combine(today_hk(), HONG_KONG_CLOCKS[hong_kong_clock], tzinfo=HONG_KONG)
    assert timedelta(0) <= wall - expected < timedelta(minutes=1)


def test_no_service_module_grows_past_about_600_lines():
    """A service module that grows past this is split by aggregate (DESIGN.md)."""
    sizes = {
        path.name: len(path.read_text().splitlines()) for path in _modules(PACKAGE / "services")
    }
    assert {name: size for name, size in sizes.items() if size > 620} == {}
