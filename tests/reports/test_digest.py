"""The weekly digest of territory managers (`weekly_digest`, Mondays at 08:00 Paris time)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from accounts.models import Notification
from accounts.roles import Role
from reports import digest
from sites.models import Membership
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    VolunteerFactory,
    make_public_site,
    make_sheet,
    open_day,
)
from vacations.models import PARIS

MONDAY = datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)  # ISO week 9


@pytest.fixture
def territory(db):
    return TerritoryFactory(name="CC Berry Grand Sud")


@pytest.fixture
def manager(territory):
    return member(Role.TERRITORY_MANAGER, territory=territory)


@pytest.fixture
def waiting(territory):
    """What waits in the manager's territory, and what doesn't count."""
    site = make_public_site(name="MSP de Châteaumeillant", territory=territory, rooms=3)
    elsewhere = make_public_site(name="MSP d’ailleurs", territory=TerritoryFactory())
    open_day(site, date(2027, 3, 10))  # in the next four weeks
    open_day(site, date(2027, 3, 20), period="am")
    open_day(site, date(2027, 4, 5))  # five weeks ahead: not yet
    open_day(site, date(2027, 3, 11), status="cancelled")
    open_day(elsewhere, date(2027, 3, 10))
    VolunteerFactory(status="pending", territories=[territory], user__last_name="Attente")
    VolunteerFactory(status="verified", territories=[territory])
    VolunteerFactory(status="pending", territories=[TerritoryFactory()])
    make_sheet(HostSiteFactory(name="Centre de santé de Lignières", territory=territory),
               status="submitted")  # fmt: skip
    make_sheet(HostSiteFactory(territory=TerritoryFactory()), status="submitted")
    return site


def run(at=MONDAY):
    with time_machine.travel(at, tick=False):
        return digest.send_weekly_digest()


def test_a_manager_gets_its_territories_open_days_volunteers_and_sheets(
    manager, waiting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        written = run()

    assert written == 1
    sent = Notification.objects.get()
    assert (sent.recipient, sent.kind, sent.status) == (manager, "weekly_digest", "sent")
    sections = sent.context["sections"]
    assert [(s["title"], s["count"]) for s in sections] == [
        ("Journées ouvertes sans médecin dans les 4 semaines", "2"),
        ("Volontaires en attente de vérification", "1"),
        ("Fiches d’information à valider", "1"),
    ]
    assert sections[0]["items"] == [
        "10/03/2027 · MSP de Châteaumeillant (Journée entière)",
        "20/03/2027 · MSP de Châteaumeillant (Matin)",
    ]
    assert "Attente" in sections[1]["items"][0]
    assert [item.split(" · ")[0] for item in sections[2]["items"]] == [
        "Centre de santé de Lignières"
    ]
    [email] = mail.outbox
    assert email.subject == "Votre semaine dans Relève (semaine 9)"
    assert "CC Berry Grand Sud" in email.body
    assert "/volontaires/?status=pending" in email.body
    assert "<h2" in email.alternatives[0][0]


def test_one_digest_per_manager_per_week(manager, waiting):
    first, again = run(), run(MONDAY + timedelta(hours=3))
    next_week = run(MONDAY + timedelta(weeks=1))

    assert (first, again, next_week) == (1, 0, 1)
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == [
        f"digest:2027-W09:{manager.pk}",
        f"digest:2027-W10:{manager.pk}",
    ]


def test_a_manager_with_nothing_waiting_gets_no_digest(manager):
    assert run() == 0
    assert not Notification.objects.exists()


def test_the_digest_is_in_the_managers_language(manager, waiting):
    manager.language = "en"
    manager.save()

    run()

    sent = Notification.objects.get()
    assert sent.subject == "Your week in Relève (week 9)"
    assert "Open days without a doctor in the next 4 weeks: 2" in sent.body
    assert "(Morning)" in sent.body


def test_a_section_is_one_more_function(manager, waiting, monkeypatch):
    def overdue_tasks(user, today):
        return digest.Section("Tâches en retard", 3, ["Résultat de biologie"], "/suivi/")

    monkeypatch.setattr(digest, "SECTIONS", [*digest.SECTIONS, overdue_tasks])

    run()

    sections = Notification.objects.get().context["sections"]
    assert [s["title"] for s in sections][-1] == "Tâches en retard"
    assert len(sections) == 4


def test_it_is_scheduled_on_monday_morning_and_runs_as_a_job(manager, waiting, capsys):
    schedule = settings.CELERY_BEAT_SCHEDULE["weekly_digest"]["schedule"]
    assert schedule.day_of_week == {1}
    assert (schedule.hour, schedule.minute) == ({8}, {0})
    assert settings.CELERY_TIMEZONE == "Europe/Paris"

    with time_machine.travel(MONDAY, tick=False):
        call_command("run_job", "weekly_digest")

    assert "weekly_digest: 1" in capsys.readouterr().out


def test_overdue_and_escalated_follow_up_tasks_are_in_the_digest(manager, waiting):
    from continuity.models import FollowUpTask

    due = datetime(2027, 2, 26, 12, 0, tzinfo=PARIS)
    FollowUpTask.objects.bulk_create(
        [
            FollowUpTask(site=waiting, kind="chase_result", title="MSP-1", due_at=due),
            FollowUpTask(site=waiting, kind="review_result", title="MSP-2", escalation_level=1,
                         due_at=MONDAY + timedelta(days=1)),
            FollowUpTask(site=waiting, kind="other", title="MSP-3",
                         due_at=MONDAY + timedelta(days=1)),  # neither: not listed
            FollowUpTask(site=waiting, kind="chase_result", title="MSP-4", due_at=due,
                         status="done"),
        ]
    )  # fmt: skip

    run()

    section = Notification.objects.get().context["sections"][-1]
    assert (section["title"], section["count"]) == ("Tâches de suivi en retard ou escaladées", "2")
    assert section["items"][0].startswith("Analyser un résultat · MSP de Châteaumeillant")
    assert not any("MSP-" in item for item in section["items"])  # no patient reference


# --- ARS managers (issue 11 § 8): the same digest, over their region ------------------------


@pytest.fixture
def occitanie(db):
    """What waits in another region: never in a Centre-Val de Loire digest."""
    territory = TerritoryFactory(name="CC du Larzac", department_id="12")
    site = make_public_site(name="MSP du Larzac", territory=territory)
    open_day(site, date(2027, 3, 12))
    VolunteerFactory(status="pending", territories=[territory], home_department_id="12")
    make_sheet(HostSiteFactory(name="CS de Millau", territory=territory), status="submitted")
    return territory


def test_an_ars_manager_gets_its_regions_digest(waiting, occitanie):
    ars = member(Role.ARS_MANAGER, region_id="24")

    assert run() == 1

    sent = Notification.objects.get()
    assert sent.recipient == ars
    counts = {s["title"]: s["count"] for s in sent.context["sections"]}
    # Both Centre-Val de Loire sites' open days (its territory manager's and the other one),
    # the pending volunteers living or choosing there, the sheets there; nothing of Occitanie.
    assert counts == {
        "Journées ouvertes sans médecin dans les 4 semaines": "3",
        "Volontaires en attente de vérification": "2",
        "Fiches d’information à valider": "2",
    }
    everything = str(sent.context)
    assert "Larzac" not in everything
    assert "Millau" not in everything
    assert sent.context["territories"] == "Centre-Val de Loire"
    assert "Centre-Val de Loire" in sent.body


def test_a_manager_who_is_also_ars_gets_one_digest_covering_both(waiting, occitanie):
    both = member(Role.ARS_MANAGER, region_id="24")
    Membership.objects.create(user=both, role=Role.TERRITORY_MANAGER, territory=occitanie)

    first, again = run(), run(MONDAY + timedelta(hours=2))

    assert (first, again) == (1, 0)
    sent = Notification.objects.get()
    assert sent.dedupe_key == f"digest:2027-W09:{both.pk}"
    assert sent.context["territories"] == "Centre-Val de Loire, CC du Larzac"
    open_days = sent.context["sections"][0]
    assert open_days["count"] == "4"
    assert any("MSP du Larzac" in item for item in open_days["items"])


def test_an_ars_manager_gets_it_once_a_week(waiting):
    ars = member(Role.ARS_MANAGER, region_id="24")

    runs = [run(), run(MONDAY + timedelta(days=1)), run(MONDAY + timedelta(weeks=1))]

    assert runs == [1, 0, 1]
    assert Notification.objects.filter(recipient=ars).count() == 2
