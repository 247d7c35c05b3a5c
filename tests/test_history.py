"""Every change of a history-tracked model records who made it.

A queryset `.update()` (or `.bulk_update()`) writes no historical record: outside migrations
nothing may call one on a tracked model. Services save through the one helper,
`accounts.history.save_tracked`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from accounts.history import save_tracked
from tests.factories import VolunteerFactory

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "accounts",
    "sites",
    "volunteers",
    "vacations",
    "continuity",
    "feedback",
    "reports",
    "config",
)
WRITES_WITHOUT_HISTORY = {"update", "bulk_update"}


def tracked_models() -> list:
    return [
        model
        for model in apps.get_models()
        if hasattr(model._meta, "simple_history_manager_attribute")
        and not model.__name__.startswith("Historical")
    ]


def tracked_names() -> tuple[set[str], set[str]]:
    """Class names of the tracked models, and the accessors that lead to their rows from
    another object (`exam.tasks`, `sheet.readiness`…)."""
    models = tracked_models()
    classes = {model.__name__ for model in models}
    accessors = set()
    for model in models:
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.remote_field is not None:
                accessor = field.remote_field.get_accessor_name()
                if accessor and not accessor.endswith("+"):
                    accessors.add(accessor)
    return classes, accessors


def _chain(node: ast.AST):
    """The receiver chain of a call, outermost first: `A.objects.filter(x).update` → the nodes
    `A.objects.filter(x)`, `A.objects.filter`, `A.objects`, `A`."""
    while True:
        yield node
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        else:
            return


def _aliases(tree: ast.Module, classes: set[str]) -> set[str]:
    """Module-level `Task = FollowUpTask`: `Task.objects…update()` is the same write."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Name)
        and node.value.id in classes
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def writes_without_history(source: str, classes: set[str], accessors: set[str]) -> list[int]:
    """Lines of `source` calling `.update()`/`.bulk_update()` on a tracked model's rows."""
    tree = ast.parse(source)
    names = classes | _aliases(tree, classes)
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITES_WITHOUT_HISTORY
        ):
            continue
        for link in _chain(node.func.value):
            if (isinstance(link, ast.Name) and link.id in names) or (
                isinstance(link, ast.Attribute) and link.attr in accessors | names
            ):
                found.append(node.lineno)
                break
    return found


def app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_checker_finds_updates_through_managers_aliases_and_related_managers(db):
    classes, accessors = tracked_names()
    assert {"PendingExam", "FollowUpTask", "Vacation", "InfoSheet", "Volunteer"} <= classes
    assert {"tasks", "readiness", "pending_exams"} <= accessors
    source = (
        "Task = FollowUpTask\n"
        "PendingExam.objects.filter(pk=1).update(status='reviewed')\n"
        "Task.objects.overdue().update(escalation_level=1)\n"
        "exam.tasks.filter(kind='chase_result').update(status='done')\n"
        "sheet.readiness.update(status='ok')\n"
        "Vacation.objects.bulk_update(days, ['status'])\n"
        "Notification.objects.filter(pk=1).update(status='sent')\n"  # not tracked: a claim
        "context.update(site=site)\n"
    )

    assert writes_without_history(source, classes, accessors) == [2, 3, 4, 5, 6]


def test_no_update_on_history_tracked_models_outside_migrations(db):
    classes, accessors = tracked_names()

    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in app_sources()
        for line in writes_without_history(path.read_text(), classes, accessors)
        if not _declared_bulk(path, line)
    ]

    assert found == [], "a queryset update writes no history; use accounts.history.save_tracked"


BULK_MARK = "# history: "


def _declared_bulk(path, line: int) -> bool:
    """A batch that writes its history itself (`bulk_history_create`) or the benchmark's
    generator (a data set of its own) says so on the line before: `# history: <why>`."""
    lines = path.read_text().splitlines()
    return line >= 2 and lines[line - 2].strip().startswith(BULK_MARK)


def test_a_declared_bulk_write_names_its_history(db):
    """Each `# history:` mark sits on a real bulk write of this checker (none left stale)."""
    classes, accessors = tracked_names()
    for path in app_sources():
        lines = path.read_text().splitlines()
        flagged = set(writes_without_history(path.read_text(), classes, accessors))
        marks = [n + 2 for n, text in enumerate(lines) if text.strip().startswith(BULK_MARK)]
        assert all(mark in flagged for mark in marks), f"{path}: a stale '# history:' mark"


def test_one_helper_saves_tracked_models():
    helpers = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in app_sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
        and (
            node.name == "save_tracked"
            or (node.name == "_save" and "by" in {a.arg for a in node.args.kwonlyargs})
        )
    ]

    assert helpers == ["accounts/history.py:19 save_tracked"]


@pytest.mark.django_db
def test_save_tracked_records_who_and_why_and_validates_on_request():
    volunteer = VolunteerFactory()
    by = VolunteerFactory().user

    volunteer.phone = "02 48 96 00 11"
    save_tracked(volunteer, by=by, fields=["phone"], reason="corrected by phone", validate=True)

    record = volunteer.history.first()
    assert (record.history_user, record.history_change_reason) == (by, "corrected by phone")
    assert record.phone == "02 48 96 00 11"
    volunteer.phone = "12345"
    with pytest.raises(ValidationError, match="phone"):
        save_tracked(volunteer, by=by, validate=True)
    volunteer.refresh_from_db()
    assert volunteer.phone == "02 48 96 00 11"
    assert not hasattr(volunteer, "_history_user")  # not lent to whoever saves it next
