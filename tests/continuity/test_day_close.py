"""Closing a day is continuity's service, `day_close`: the day's exams listed (or "none") and
its handover written, then the vacations transition to `done`. The API's `complete` and the
day's close page both go through it; vacations never imports continuity."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.errors import DomainError
from continuity import services
from tests.continuity.conftest import record_exam
from vacations import services as vacations_services

ROOT = Path(__file__).resolve().parents[2]


def refusal_code(response) -> str | None:
    found = re.search(r'data-testid="refusal" data-code="([a-z_]+)"', response.content.decode())
    return found[1] if found else None


def test_day_close_refuses_until_exams_and_handover_then_completes(day, nurse):
    with pytest.raises(DomainError) as refusal:
        services.day_close(vacation=day, by=nurse, consultations_count=12)
    assert refusal.value.code == "closure_incomplete"
    day.refresh_from_db()
    assert (day.status, day.indemnity, day.done_at) == ("booked", None, None)

    record_exam(day)
    services.handover_write(vacation=day, by=day.volunteer.user, text="RAS")
    closed = services.day_close(vacation=day, by=nurse, consultations_count=12)

    day.refresh_from_db()
    assert closed.pk == day.pk
    assert (day.status, day.consultations_count, day.indemnity) == ("done", 12, Decimal("200.00"))
    assert day.history.first().history_user == nurse


def test_the_days_own_refusals_come_before_the_closure(day, nurse):
    services.handover_write(vacation=day, by=day.volunteer.user, text="RAS")
    services.day_close(vacation=day, by=nurse, consultations_count=12, no_exams=True)

    with pytest.raises(DomainError) as again:
        services.day_close(vacation=day, by=nurse, consultations_count=12, no_exams=True)

    assert again.value.code == "invalid_transition"


def test_completing_through_the_api_needs_exams_and_handover(api, day, nurse):
    api.force_authenticate(day.volunteer.user)
    url = f"/api/v1/vacations/{day.pk}/complete/"

    bare = api.post(url, {"consultations_count": 9}, format="json")
    assert bare.status_code == 409
    assert bare.json()["code"] == "closure_incomplete"
    day.refresh_from_db()
    assert day.status == "booked"

    record_exam(day)
    services.handover_write(vacation=day, by=day.volunteer.user, text="RAS")
    done = api.post(url, {"consultations_count": 9}, format="json")

    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["indemnity"]) == ("done", "200.00")


def test_completing_from_the_page_shows_what_is_missing_then_closes(client, day, secretary):
    url = reverse("vacation_complete_page", args=[day.pk])
    client.force_login(secretary)

    refused = client.post(url, {"consultations_count": 14, "no_exams": "on"})

    assert refused.status_code == 200
    assert refusal_code(refused) == "closure_incomplete"
    assert refused.context["missing"]  # the closure page, listing what is missing
    day.refresh_from_db()
    assert day.status == "booked"

    services.handover_write(vacation=day, by=secretary, text="RAS")
    done = client.post(url, {"consultations_count": 14, "no_exams": "on"})

    assert done.status_code == 302
    assert done["Location"] == reverse("vacation_detail", args=[day.pk])
    day.refresh_from_db()
    assert (day.status, day.consultations_count, day.no_exams) == ("done", 14, True)


def test_vacations_never_imports_continuity():
    imports = []
    for path in sorted((ROOT / "vacations").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            imports += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names
                        if name.split(".")[0] == "continuity"]  # fmt: skip

    assert imports == []
    assert not hasattr(vacations_services, "closure_checks")  # no hook filled at start-up
