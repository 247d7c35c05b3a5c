"""The monthly summary (`monthly_summary`, the 1st at 07:00 Paris time, issue 11 § 8): last
month's coverage, follow-up and indemnities of a region for its ARS managers, and of France for
the national managers, with the dashboards and the month's CSV exports linked."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from accounts.models import Notification
from accounts.roles import Role
from continuity.models import FollowUpTask, PendingExam
from reports import summary
from reports.models import Statement
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, open_day
from vacations.models import PARIS

MARCH_1 = datetime(2027, 3, 1, 7, 0, tzinfo=PARIS)  # the summary of February 2027
FEB = date(2027, 2, 1)


def at(day: int, hour: int = 9, month: int = 2) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=PARIS)


def exam(day, n: int, **fields) -> PendingExam:
    fields = {"expected_by": day.date + timedelta(days=3), **fields}
    return PendingExam.objects.create(
        vacation=day, site=day.site, prescriber=day.volunteer, created_by=day.volunteer.user,
        patient_ref=f"PAT-{day.pk}-{n}", patient_initials="JD", patient_birth_year=1950,
        kind="biology", description="NFS", order_number=f"CMD-{day.pk}-{n}",
        ordered_on=day.date, **fields,
    )  # fmt: skip


@pytest.fixture
def world(db):
    """Two sites of Centre-Val de Loire with a need, a draft one, one in Occitanie; February's
    days in every status, and what is outside February or the region."""
    cher, indre = TerritoryFactory(department_id="18"), TerritoryFactory(department_id="36")
    larzac = TerritoryFactory(department_id="12")
    s1 = HostSiteFactory(territory=cher, days_wanted_per_month=4)
    s2 = HostSiteFactory(territory=indre, days_wanted_per_month=3)
    HostSiteFactory(territory=cher, days_wanted_per_month=10, status="draft")  # no need yet
    s4 = HostSiteFactory(territory=larzac, days_wanted_per_month=6)
    a, b, c = VolunteerFactory(), VolunteerFactory(), VolunteerFactory()
    open_day(s1, date(2027, 2, 3), status="booked", volunteer=a)
    open_day(s1, date(2027, 2, 4), period="am", status="booked", volunteer=a)
    d1 = open_day(s1, date(2027, 2, 10), status="done", volunteer=b, indemnity="200.00")
    open_day(s1, date(2027, 2, 11), period="pm", status="done", volunteer=b, indemnity="100.00")
    open_day(s1, date(2027, 2, 12))  # open: neither booked nor done
    open_day(s1, date(2027, 2, 13), status="cancelled")
    d2 = open_day(s2, date(2027, 2, 28), status="done", volunteer=c, indemnity="200.00")
    open_day(s2, date(2027, 1, 31), status="done", volunteer=c, indemnity="200.00")  # January
    open_day(s2, date(2027, 3, 1), status="booked", volunteer=c)  # March
    d4 = open_day(s4, date(2027, 2, 10), status="done", volunteer=c, indemnity="200.00")
    # Follow-up: overdue now (expected before 1 March) or not; closed in February after 2 h,
    # 10 h and 30 h in the region (median 10 h), 100 h in Occitanie, one closed in January.
    exam(d1, 1, expected_by=date(2027, 2, 20))  # overdue
    exam(d1, 2, expected_by=date(2027, 3, 5))  # not yet
    exam(d2, 1, status="received", received_at=at(27), expected_by=date(2027, 2, 20))
    exam(d4, 1, expected_by=date(2027, 2, 20))  # overdue, Occitanie
    for n, (received, hours) in enumerate([(at(12), 2), (at(13), 10), (at(20), 30)]):
        exam(d1, 10 + n, status="closed", received_at=received,
             closed_at=received + timedelta(hours=hours))  # fmt: skip
    exam(d1, 20, status="closed", received_at=at(5, month=1), closed_at=at(6, month=1))
    exam(d4, 2, status="closed", received_at=at(3), closed_at=at(3) + timedelta(hours=100))
    FollowUpTask.objects.bulk_create(
        [
            FollowUpTask(site=s1, kind="chase_result", title="T1", due_at=at(25)),
            FollowUpTask(site=s2, kind="review_result", title="T2", due_at=at(28, 23),
                         status="in_progress"),
            FollowUpTask(site=s2, kind="other", title="T3", due_at=MARCH_1 + timedelta(days=1)),
            FollowUpTask(site=s1, kind="other", title="T4", due_at=at(2), status="done"),
            FollowUpTask(site=s4, kind="other", title="T5", due_at=at(2)),
        ]
    )  # fmt: skip
    signed = {"validated_days": Decimal("1"), "validated_amount": Decimal("200")}
    Statement.objects.create(
        territory=cher, month=FEB, status="validated", validated_at=at(28), **signed
    )
    Statement.objects.create(
        territory=larzac, month=FEB, status="paid", validated_at=at(20), paid_at=at(27), **signed
    )
    return {"cher": cher, "larzac": larzac}


def run(at=MARCH_1):
    with time_machine.travel(at, tick=False):
        return summary.send_monthly_summaries()


def test_each_ars_manager_gets_its_regions_summary_and_the_national_manager_frances(
    world, django_capture_on_commit_callbacks
):
    centre_1 = member(Role.ARS_MANAGER, region_id="24")
    centre_2 = member(Role.ARS_MANAGER, region_id="24")
    occitanie = member(Role.ARS_MANAGER, region_id="76")
    national = member(Role.NATIONAL_MANAGER)
    member(Role.TERRITORY_MANAGER, territory=world["cher"])  # not for territory managers
    gone = member(Role.ARS_MANAGER, region_id="24")
    gone.is_active = False
    gone.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert run() == 4

    sent = {n.recipient: n for n in Notification.objects.filter(kind="monthly_summary")}
    assert set(sent) == {centre_1, centre_2, occitanie, national}
    assert sent[centre_1].dedupe_key == f"summary:2027-02:region-24:{centre_1.pk}"
    assert sent[national].dedupe_key == f"summary:2027-02:france:{national.pk}"
    assert sent[centre_1].context["place"] == "Centre-Val de Loire"
    assert sent[occitanie].context["place"] == "Occitanie"
    assert sent[national].context["place"] == "France"
    assert len(mail.outbox) == 4


def test_the_figures_are_last_months_in_the_region(world):
    ars = member(Role.ARS_MANAGER, region_id="24")
    national = member(Role.NATIONAL_MANAGER)

    run()

    region = Notification.objects.get(recipient=ars).context
    assert region["coverage"] == {
        "days_needed": "7",  # the two active sites' need
        "days_booked": "1.5",  # a day and a morning
        "days_done": "2.5",  # a day, an afternoon, a day
        "fill_rate": "57.1",  # 4 of 7
    }
    assert region["continuity"] == {
        "exams_overdue": "1",
        "tasks_overdue": "2",
        "median_hours": "10.0",
    }
    assert region["indemnities"] == {
        "days": "2.5",
        "amount": "500.00",
        "statements": {"draft": "1", "validated": "1", "paid": "0"},
    }
    france = Notification.objects.get(recipient=national).context
    assert france["coverage"]["days_needed"] == "13"
    assert france["coverage"]["days_done"] == "3.5"
    assert france["continuity"] == {
        "exams_overdue": "2",
        "tasks_overdue": "3",
        "median_hours": "20.0",  # 2, 10, 30, 100: between 10 and 30
    }
    assert france["indemnities"]["statements"] == {"draft": "1", "validated": "1", "paid": "1"}


def test_it_links_the_dashboards_and_the_months_csv_exports(
    world, django_capture_on_commit_callbacks
):
    ars = member(Role.ARS_MANAGER, region_id="24")
    ars.language = "en"
    ars.save()

    with django_capture_on_commit_callbacks(execute=True):
        run()

    sent = Notification.objects.get(recipient=ars)
    assert sent.subject == "Monthly summary of February 2027: Centre-Val de Loire"
    exports = sent.context["exports"]
    for report in ("coverage", "continuity"):
        url = urlsplit(exports[report])
        assert url.path == f"/api/v1/reports/{report}/"
        assert parse_qs(url.query) == {
            "from": ["2027-02-01"], "to": ["2027-02-28"], "region": ["24"], "format": ["csv"]
        }  # fmt: skip
    url = urlsplit(exports["indemnities"])
    assert url.path == "/api/v1/reports/indemnities/"
    assert parse_qs(url.query) == {"month": ["2027-02"], "region": ["24"], "format": ["csv"]}
    assert sent.link == "/pilotage/?region=24"  # the region's overview, behind the button
    for report, link in sent.context["dashboards"].items():
        assert link.startswith("/pilotage/"), report
        assert "region=24" in link
    [email] = mail.outbox
    html = email.alternatives[0][0]
    for link in [*exports.values(), *sent.context["dashboards"].values()]:
        assert f"{settings.SITE_URL}{link}" in email.body
        assert f"{settings.SITE_URL}{link}".replace("&", "&amp;") in html
    assert "Days needed: 7 · booked: 1.5 · done: 2.5" in email.body
    assert "Fill rate: 57 %" in email.body
    assert "Median time from result to closure: 10 h" in email.body
    assert "Days done: 2.5 · indemnities: 500.00 €" in email.body
    assert "1 draft, 1 validated, 0 paid" in email.body


def test_it_is_written_in_the_recipients_language(world):
    member(Role.ARS_MANAGER, region_id="24")

    run()

    sent = Notification.objects.get()
    assert "février 2027" in sent.subject
    assert "2,5" in sent.body  # French decimals


def test_no_patient_reference_reaches_the_summary(world, django_capture_on_commit_callbacks):
    member(Role.NATIONAL_MANAGER)

    with django_capture_on_commit_callbacks(execute=True):
        run()

    sent = Notification.objects.get()
    [email] = mail.outbox
    text = f"{sent.subject}{sent.body}{sent.html}{sent.context}{email.body}"
    assert "PAT-" not in text
    assert "CMD-" not in text
    assert "NFS" not in text


def test_once_a_month_whatever_the_runs(world):
    ars = member(Role.ARS_MANAGER, region_id="24")

    runs = [run(), run(MARCH_1 + timedelta(hours=5)), run(MARCH_1 + timedelta(days=31))]

    assert runs == [1, 0, 1]
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == [
        f"summary:2027-02:region-24:{ars.pk}",
        f"summary:2027-03:region-24:{ars.pk}",
    ]


def test_it_is_scheduled_on_the_1st_and_runs_as_a_job(world, capsys):
    member(Role.ARS_MANAGER, region_id="24")
    schedule = settings.CELERY_BEAT_SCHEDULE["monthly_summary"]["schedule"]
    assert schedule.day_of_month == {1}
    assert (schedule.hour, schedule.minute) == ({7}, {0})

    with time_machine.travel(MARCH_1, tick=False):
        call_command("run_job", "monthly_summary")
        call_command("run_job", "monthly_summary")

    out = capsys.readouterr().out
    assert "monthly_summary: 1" in out
    assert "monthly_summary: 0" in out
    assert Notification.objects.filter(kind="monthly_summary").count() == 1
