from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from accounts.models import Notification
from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services
from vacations.models import PARIS, Vacation
from vacations.reminders import send_vacation_reminders

MORNING = datetime(2027, 3, 2, 7, 0, tzinfo=PARIS)


@pytest.fixture
def site(db):
    return make_public_site(city="Châteaumeillant")


@pytest.fixture
def secretary(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def booked(site, secretary):
    volunteer = VolunteerFactory()
    day = open_day(site, date(2027, 3, 9))  # 7 days after MORNING
    with time_machine.travel(MORNING - timedelta(days=5), tick=False):
        services.vacation_book(vacation=day, volunteer=volunteer, by=secretary)
    day.refresh_from_db()
    return day


def kinds(**filters):
    return sorted(Notification.objects.filter(**filters).values_list("kind", flat=True))


def test_a_booked_day_is_reminded_7_days_before_to_the_volunteer_and_the_secretary(
    booked, secretary, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    mail.outbox.clear()

    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = send_vacation_reminders()
        second = send_vacation_reminders()

    assert (first, second) == (2, 0)
    assert kinds() == ["vacation_reminder", "vacation_reminder_site"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [booked.volunteer.user.email, secretary.email]
    )
    assert "09/03/2027" in mail.outbox[0].subject


def test_the_day_before_gets_its_own_reminder(booked):
    with time_machine.travel(MORNING, tick=False):
        send_vacation_reminders()
    with time_machine.travel(MORNING + timedelta(days=6), tick=False):
        send_vacation_reminders()
        send_vacation_reminders()

    assert Notification.objects.filter(kind="vacation_reminder").count() == 2


def test_a_withdrawn_day_gets_no_reminder_and_a_rebooked_one_gets_them_again(booked, secretary):
    volunteer = booked.volunteer
    with time_machine.travel(MORNING - timedelta(days=1), tick=False):
        services.vacation_withdraw(vacation=booked, volunteer=volunteer)
    with time_machine.travel(MORNING, tick=False):
        after_withdrawal = send_vacation_reminders()
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        services.vacation_book(vacation=booked, volunteer=volunteer, by=secretary)
        after_rebooking = send_vacation_reminders()

    assert after_withdrawal == 0
    assert after_rebooking == 2


def test_a_cancelled_day_gets_no_reminder(booked, secretary):
    with time_machine.travel(MORNING - timedelta(days=1), tick=False):
        services.vacation_cancel(vacation=booked, by=secretary, reason="Fermeture")
    Notification.objects.all().delete()  # the cancellation's own message
    with time_machine.travel(MORNING, tick=False):
        assert send_vacation_reminders() == 0
    with time_machine.travel(MORNING + timedelta(days=6), tick=False):
        assert send_vacation_reminders() == 0
    assert not Notification.objects.exists()


def test_a_request_waiting_48_hours_is_recalled_to_the_secretary_once(site, secretary):
    day = open_day(site, date(2027, 3, 20))
    with time_machine.travel(MORNING - timedelta(hours=49), tick=False):
        services.vacation_request(vacation=day, volunteer=VolunteerFactory())
    Notification.objects.all().delete()

    with time_machine.travel(MORNING, tick=False):
        send_vacation_reminders()
        send_vacation_reminders()

    assert kinds() == ["request_waiting"]
    assert Notification.objects.get().recipient == secretary


def test_waiting_requests_are_reminded_once_and_only_for_future_days(site, secretary):
    """A request whose day has gone by is recalled to nobody (the large data set recalled
    9,887 requested days, past ones included); one still ahead is recalled once, on every run
    after it has waited 48 hours, today's day included."""
    past = open_day(site, date(2027, 2, 20), status="requested", volunteer=VolunteerFactory())
    today = open_day(site, date(2027, 3, 2), status="requested", volunteer=VolunteerFactory())
    ahead = open_day(site, date(2027, 3, 20), status="requested", volunteer=VolunteerFactory())
    Vacation.objects.filter(pk__in=[past.pk, today.pk, ahead.pk]).update(
        requested_at=MORNING - timedelta(days=20)
    )

    for run in range(3):
        with time_machine.travel(MORNING + timedelta(minutes=run), tick=False):
            send_vacation_reminders()

    recalled = Notification.objects.filter(kind="request_waiting")
    assert sorted(n.link.split("/jours/")[1] for n in recalled) == sorted(
        f"{day.pk}/" for day in (today, ahead)
    )
    assert {n.recipient for n in recalled} == {secretary}


def test_run_job_runs_the_same_code_as_beat(booked, capsys):
    Notification.objects.all().delete()

    with time_machine.travel(MORNING, tick=False):
        call_command("run_job", "vacation_reminders")

    assert "vacation_reminders: 2" in capsys.readouterr().out
    assert Notification.objects.count() == 2


def test_the_reminders_benchmark_writes_two_messages_a_day_and_keeps_nothing(db, capsys):
    call_command("bench_reminders", "--days", "30", "--sites", "4", "--no-broker")

    out = capsys.readouterr().out
    assert "30 booked days" in out
    assert "60 notifications written" in out
    assert "Rolled back." in out
    assert not Notification.objects.exists()
    assert not Vacation.objects.exists()


def test_the_volunteers_reminder_says_when_whom_to_call_where_to_sleep_and_where_to_read(
    booked, secretary, client
):
    from sites.models import KeyContact

    KeyContact.objects.create(
        sheet=booked.site.info_sheet, service="laboratory", name="Accueil", phone="0248960000"
    )
    client.force_login(secretary)
    client.post(
        _preparation_url(booked),
        {"arrival_time": "08:15", "licence_ready": "on"},
    )
    with time_machine.travel(MORNING, tick=False):
        send_vacation_reminders()

    body = Notification.objects.get(kind="vacation_reminder").body
    assert "à 08:15" in body
    assert "Accueil (Laboratoire) : 0248960000" in body
    assert "Hébergement : Studio au-dessus de la MSP" in body
    assert f"/lieux/{booked.site_id}/fiche.pdf" in body
    assert f"/suivi/transmissions/?site={booked.site_id}" in body
    site_body = Notification.objects.get(kind="vacation_reminder_site").body
    assert "à 08:15" in site_body
    assert "Accueil" not in site_body


def test_without_an_arrival_time_the_periods_usual_time_is_given(booked):
    with time_machine.travel(MORNING, tick=False):
        send_vacation_reminders()

    assert "à 08:30" in Notification.objects.get(kind="vacation_reminder").body


def _preparation_url(vacation):
    from django.urls import reverse

    return reverse("vacation_preparation", args=[vacation.pk])
