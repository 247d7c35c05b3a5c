from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from sites.models import HostSite, InfoSheet, KeyContact, ManagingStructure, Membership, Territory
from vacations.models import Vacation
from volunteers.models import Volunteer

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_check():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="false", SECRET_KEY="x" * 20 + "production-like-secret-key-0123456789",
        ALLOWED_HOSTS="releve.example.fr",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env={**env, "DEBUG": "false"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_sending_lease_shorter_than_a_slow_send_is_refused():
    result = manage(
        "check", DEBUG="true", EMAIL_TIMEOUT="60", RELEVE_NOTIFICATION_LEASE_SECONDS="90"
    )

    assert result.returncode != 0
    assert "RELEVE_NOTIFICATION_LEASE_SECONDS must be at least 3 × EMAIL_TIMEOUT" in result.stderr


def test_models_and_migrations_agree():
    result = manage("makemigrations", "--check", "--dry-run", DEBUG="true")

    assert result.returncode == 0, result.stdout + result.stderr


def test_seed_demo_is_idempotent(db, capsys):
    call_command("seed_demo")
    models = (Territory, ManagingStructure, HostSite, Membership, KeyContact, Volunteer, Vacation)
    counts = [m.objects.count() for m in models] + [InfoSheet.history.count()]
    first_output = capsys.readouterr().out

    call_command("seed_demo")

    assert [m.objects.count() for m in models] + [InfoSheet.history.count()] == counts
    assert counts[:3] == [1255, 2, 8]
    assert HostSite.objects.public().count() == 4
    eligible = {v.user.email: v.is_eligible() for v in Volunteer.objects.select_related("user")}
    assert eligible == {
        "dr.martin@demo.releve.fr": True,
        "dr.bernard@demo.releve.fr": True,
        "dr.petit@demo.releve.fr": False,
    }
    statuses = set(Vacation.objects.values_list("status", flat=True))
    assert statuses == {"done", "open", "requested", "booked"}
    assert "dr.petit@demo.releve.fr" in first_output
    assert InfoSheet.objects.filter(status="submitted").count() == 2  # one per region
    for draft in InfoSheet.objects.filter(status="draft"):
        assert [r.item.code for r in draft.missing_mandatory()] == ["course_nurse"]
    parents = dict(
        HostSite.objects.filter(kind="secondary_practice").values_list("name", "parent__name")
    )
    assert parents == {
        "Cabinet secondaire du Châtelet": "Maison de santé de Châteaumeillant",
        "Maison de santé de Luçay-le-Mâle": "Centre de santé de Valençay",
    }
    assert "secretariat@demo.releve.fr" in first_output
    assert "releve-demo" in first_output
