"""Races on PostgreSQL: threads with their own connections hit the services at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.errors import DomainError
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services
from vacations.models import Vacation

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Row locks and the exclusion constraint are PostgreSQL's: CI's PostgreSQL pass runs these.
    pytest.mark.postgres,
]


def race(calls) -> list[str]:
    """Run every call at once (a barrier releases them together); return each outcome."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except DomainError as refusal:
            outcomes[index] = refusal.code
        except Exception as exc:  # anything else would be a 500
            outcomes[index] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_sites_racing_to_book_one_volunteer_the_same_day_book_exactly_one():
    volunteer = VolunteerFactory()
    day = timezone.localdate() + timedelta(days=7)
    vacations = [
        open_day(make_public_site(), day, period="am" if i % 2 else "day") for i in range(20)
    ]
    secretary = volunteer.user  # the author recorded in history; rules don't depend on it

    outcomes = race(
        [
            lambda v=v: services.vacation_book(vacation=v, volunteer=volunteer, by=secretary)
            for v in vacations
        ]
    )

    assert sorted(outcomes) == ["ok"] + ["overlap"] * 19
    assert Vacation.objects.filter(volunteer=volunteer, status="booked").count() == 1


def test_twenty_sites_racing_to_book_one_volunteer_on_twenty_days_of_a_month_respect_the_quota():
    # Twenty different days: no overlap, no shared site row. Only the lock on the volunteer's
    # row makes each booking see the days the others have just taken.
    volunteer = VolunteerFactory()
    assert volunteer.max_days_per_month == 2
    month = (timezone.localdate().replace(day=1) + timedelta(days=62)).replace(day=1)
    vacations = [open_day(make_public_site(), month.replace(day=d)) for d in range(1, 21)]
    secretary = volunteer.user

    outcomes = race(
        [
            lambda v=v: services.vacation_book(vacation=v, volunteer=volunteer, by=secretary)
            for v in vacations
        ]
    )

    assert sorted(outcomes) == ["ok"] * 2 + ["quota_exceeded"] * 18
    assert Vacation.objects.filter(volunteer=volunteer, status="booked").count() == 2


def test_two_volunteers_racing_for_the_last_room_get_it_once():
    site = make_public_site(rooms=1)
    day = timezone.localdate() + timedelta(days=7)
    last = open_day(site, day)
    first, second = VolunteerFactory(), VolunteerFactory()

    outcomes = race(
        [
            lambda: services.vacation_request(vacation=last, volunteer=first),
            lambda: services.vacation_request(vacation=last, volunteer=second),
        ]
    )

    assert sorted(outcomes) == ["invalid_transition", "ok"]
    last.refresh_from_db()
    assert last.status == "requested"
    assert last.volunteer in (first, second)


def test_two_secretaries_racing_to_open_the_last_room_open_it_once():
    site = make_public_site(rooms=1)
    day = timezone.localdate() + timedelta(days=9)
    user = VolunteerFactory().user

    outcomes = race(
        [lambda: services.vacation_open(site=site, date=day, period="day", by=user)] * 2
    )

    assert sorted(outcomes) == ["ok", "site_full"]
    assert Vacation.objects.filter(site=site).count() == 1


def test_the_database_itself_refuses_overlapping_days_of_one_volunteer():
    from django.db import IntegrityError

    volunteer = VolunteerFactory()
    day = timezone.localdate() + timedelta(days=7)
    open_day(make_public_site(), day, status="booked", volunteer=volunteer)

    with pytest.raises(IntegrityError, match="vacation_no_overlap_per_volunteer"):
        open_day(make_public_site(), day, period="pm", status="requested", volunteer=volunteer)
