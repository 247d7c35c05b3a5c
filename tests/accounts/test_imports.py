"""The Celery tasks that deliver notifications don't import the module that writes them (which
enqueues those tasks): no import cycle between `accounts.notifications` and `accounts.tasks`,
not even a function-local import hiding one."""

from __future__ import annotations

import ast
from pathlib import Path

ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


def imported_by(module: str) -> set[str]:
    tree = ast.parse((ACCOUNTS / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):  # every import, at the top or inside a function
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_notifications_and_their_tasks_import_each_other_one_way_only():
    assert "accounts.tasks" in imported_by("notifications")
    for module in ("tasks", "delivery"):
        assert "accounts.notifications" not in imported_by(module), module
    assert not {"accounts.notifications", "accounts.tasks"} & imported_by("delivery")
