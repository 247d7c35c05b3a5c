"""A day's page once it took place: its exams and handover, or the way to close it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from continuity import services
from continuity.models import AccessRecord, HandoverRead
from tests.browser.journey import fr
from tests.continuity.conftest import record_exam
from tests.factories import VolunteerFactory
from vacations.models import Vacation


def close(day, by, *, exams=1):
    for number in range(exams):
        record_exam(day, by=by, order_number=f"CMD-{number:04d}", patient_ref=f"MSP-{number:03d}")
    services.handover_write(vacation=day, by=by, text="Mme D. : rappeler lundi.\nRAS sinon.")
    services.day_close(vacation=day, by=by, consultations_count=12)
    day.refresh_from_db()
    return day


def exam_links(html: str) -> list[str]:
    return re.findall(r'href="/suivi/examens/(\d+)/"', html)


def test_a_done_day_shows_its_exams_and_handover(client, day, prescriber):
    day = close(day, prescriber.user, exams=2)
    exams = list(day.pending_exams.order_by("pk"))
    handover = day.handovers.get()
    client.force_login(prescriber.user)

    response = client.get(reverse("vacation_detail", args=[day.pk]))

    html = response.content.decode()
    assert day.status == Vacation.Status.DONE
    assert 'data-closed="yes"' in html
    assert fr("Nothing to do on this day.") not in html
    assert 'data-testid="close-day"' not in html
    assert exam_links(html) == [str(exam.pk) for exam in exams]  # each opens its own page
    for exam in exams:
        assert exam.patient_ref in html
        assert f"({exam.patient_initials}, {exam.patient_birth_year})" in html
    assert "Mme D. : rappeler lundi.<br>RAS sinon." in html
    assert reverse("continuity_handover", args=[handover.pk]) in html
    # Showing patients is recorded, like the exams list; the handover counts as read.
    access = AccessRecord.objects.get(what="day_record")
    assert (access.user, access.object_id, access.count) == (prescriber.user, str(day.pk), 2)
    assert HandoverRead.objects.filter(handover=handover, reader=prescriber.user).exists()


def test_the_sites_staff_read_the_same_and_an_other_volunteer_nothing(client, day, nurse):
    day = close(day, nurse)
    client.force_login(nurse)
    html = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()
    assert exam_links(html) == [str(day.pending_exams.get().pk)]

    client.force_login(VolunteerFactory().user)
    assert client.get(reverse("vacation_detail", args=[day.pk])).status_code == 404


def test_a_done_day_not_closed_links_to_its_closure(client, day, prescriber, secretary):
    closure = reverse("continuity_day_closure", args=[day.pk])
    client.force_login(prescriber.user)

    # Booked and past: to close.
    to_close = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()
    # Done without its handover (recorded before the closure gate existed).
    Vacation.objects.filter(pk=day.pk).update(status=Vacation.Status.DONE, no_exams=True)
    done = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()

    for html in (to_close, done):
        assert 'data-closed="no"' in html
        assert f'href="{closure}" data-testid="close-day"' in html
        assert fr("write the handover") in html
    assert fr("Nothing to do on this day.") not in done


def test_a_manager_reads_a_day_not_closed_without_the_button(client, day, territory_manager):
    client.force_login(territory_manager)

    html = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()

    assert 'data-closed="no"' in html
    assert 'data-testid="close-day"' not in html


# session, user, the day (with its site), the caller's profile, the caller's memberships (read
# once: the staff checks and the menu), what the closure misses (exams and handover in one
# query), the exams, the handovers, the handover read, the access record, unread messages (the
# bell); the feedback app's part: the caller's feedback given, the day's incidents; the
# practical part: the day's expenses, its nights, the statement that may freeze them
QUERIES = 16


@pytest.mark.parametrize("size", [1, 12])
def test_the_day_page_costs_the_same_queries_whatever_its_exams(client, day, prescriber, size):
    day = close(day, prescriber.user, exams=size)
    client.force_login(prescriber.user)
    client.get(reverse("vacation_detail", args=[day.pk]))

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("vacation_detail", args=[day.pk]))

    assert len(exam_links(response.content.decode())) == size
    assert len(queries) == QUERIES
