from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from accounts.errors import DomainError
from accounts.roles import Role
from sites.models import HostSite
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    VolunteerFactory,
    handed_over,
    make_public_site,
    make_sheet,
    open_day,
)
from vacations import services
from vacations.models import PARIS, Vacation, VacationRelease, slot_bounds

TODAY = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def site(db):
    return make_public_site(rooms=1)


@pytest.fixture
def staff(api, site):
    api.force_authenticate(member(Role.SECRETARY, site=site))
    return api


@pytest.fixture
def volunteer(db):
    return VolunteerFactory()


def act(api, vacation, action, **body):
    return api.post(f"/api/v1/vacations/{vacation.pk}/{action}/", body, format="json")


def as_volunteer(api, volunteer):
    api.force_authenticate(volunteer.user)
    return api


def refused(response, code):
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == code
    return True


class TestOpening:
    def test_it_opens_a_day_and_copies_the_consultation_length(self, staff, site):
        site.info_sheet.consultation_minutes = 30
        site.info_sheet.save()

        response = staff.post(
            "/api/v1/vacations/", {"site": site.pk, "date": "2027-03-09", "period": "am"}
        )

        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "open"
        assert response.json()["consultation_minutes"] == 30
        assert Vacation.objects.get().period == "am"

    def test_it_opens_every_tuesday_of_a_month_at_once(self, staff, site):
        tuesdays = ["2027-03-02", "2027-03-09", "2027-03-16", "2027-03-23", "2027-03-30"]

        response = staff.post(
            "/api/v1/vacations/", {"site": site.pk, "dates": tuesdays}, format="json"
        )

        assert response.status_code == 201
        assert [str(d) for d in Vacation.objects.values_list("date", flat=True)] == tuesdays

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"date": "2027-02-28"}, "date"),
            ({"date": "2027-03-09", "period": "evening"}, "period"),
            ({"date": "not-a-date"}, "date"),
            ({}, "date"),
        ],
    )
    def test_bad_input_answers_400_naming_the_field_and_writes_nothing(
        self, staff, site, body, field
    ):
        response = staff.post("/api/v1/vacations/", {"site": site.pk, **body}, format="json")

        assert response.status_code == 400
        assert field in response.json()
        assert not Vacation.objects.exists()

    def test_only_active_sites_with_a_published_sheet_open_days(self, api, db):
        draft = HostSiteFactory()
        make_sheet(draft, status="submitted", ready=True)
        suspended = make_public_site()
        HostSite.objects.filter(pk=suspended.pk).update(status="suspended")
        for site in (draft, suspended):
            api.force_authenticate(member(Role.SECRETARY, site=site))
            response = api.post("/api/v1/vacations/", {"site": site.pk, "date": "2027-03-09"})
            assert refused(response, "not_bookable")
        assert not Vacation.objects.exists()

    def test_a_site_never_opens_more_days_at_once_than_its_rooms(self, staff, site):
        def open_(period, day="2027-03-09"):
            return staff.post(
                "/api/v1/vacations/", {"site": site.pk, "date": day, "period": period}
            )

        assert open_("am").status_code == 201
        assert open_("pm").status_code == 201
        assert refused(open_("day"), "site_full")
        assert refused(open_("am"), "site_full")
        assert open_("day", day="2027-03-10").status_code == 201
        assert refused(open_("pm", day="2027-03-10"), "site_full")
        HostSite.objects.filter(pk=site.pk).update(rooms=2)
        assert open_("pm", day="2027-03-10").status_code == 201

    def test_opening_many_days_is_all_or_nothing(self, staff, site):
        open_day(site, date(2027, 3, 16))

        response = staff.post(
            "/api/v1/vacations/",
            {"site": site.pk, "dates": ["2027-03-09", "2027-03-16"]},
            format="json",
        )

        assert refused(response, "site_full")
        assert Vacation.objects.count() == 1

    def test_a_secretary_opens_days_only_at_her_site(self, staff, db):
        other = make_public_site()

        response = staff.post("/api/v1/vacations/", {"site": other.pk, "date": "2027-03-09"})

        assert response.status_code == 400
        assert "site" in response.json()


class TestRequestAndBook:
    def test_a_volunteer_requests_and_the_site_confirms(self, api, staff, site, volunteer):
        day = open_day(site, date(2027, 3, 9))
        secretary = staff.handler._force_user

        requested = act(as_volunteer(api, volunteer), day, "request")
        api.force_authenticate(secretary)
        booked = act(api, day, "book", volunteer=volunteer.pk)

        assert requested.json()["status"] == "requested"
        assert booked.json()["status"] == "booked"
        assert booked.json()["volunteer_name"] == volunteer.full_name
        day.refresh_from_db()
        assert (day.status, day.volunteer) == ("booked", volunteer)

    def test_it_refuses_an_unverified_or_uncommitted_volunteer(self, staff, site):
        pending = VolunteerFactory(status="pending")
        uncommitted = VolunteerFactory(committed=False)
        day = open_day(site, date(2027, 3, 9))

        for volunteer in (pending, uncommitted):
            assert refused(
                act(staff, day, "book", volunteer=volunteer.pk), "volunteer_not_eligible"
            )
        day.refresh_from_db()
        assert day.status == "open"

    def test_a_commitment_expires_after_twelve_months(self, staff, site, volunteer):
        day = open_day(site, date(2028, 3, 9))

        with time_machine.travel(TODAY + timedelta(days=366), tick=False):
            response = act(staff, day, "book", volunteer=volunteer.pk)

        assert refused(response, "volunteer_not_eligible")

    def test_a_full_day_overlaps_both_halves_across_sites(self, staff, site, volunteer):
        elsewhere = make_public_site()
        there = open_day(
            elsewhere, date(2027, 3, 9), period="pm", status="booked", volunteer=volunteer
        )
        here = open_day(site, date(2027, 3, 9), period="day")
        morning = open_day(make_public_site(), date(2027, 3, 9), period="am")

        assert refused(act(staff, here, "book", volunteer=volunteer.pk), "overlap")
        here.refresh_from_db()
        there.refresh_from_db()
        assert (here.status, here.volunteer) == ("open", None)
        assert (there.status, there.volunteer) == ("booked", volunteer)
        morning_staff = member(Role.SECRETARY, site=morning.site)
        staff.force_authenticate(morning_staff)
        assert act(staff, morning, "book", volunteer=volunteer.pk).status_code == 200
        morning.refresh_from_db()
        assert (morning.status, morning.volunteer) == ("booked", volunteer)

    def test_the_monthly_quota_counts_half_days_as_half_across_sites(self, staff, site, volunteer):
        other = make_public_site()
        open_day(other, date(2027, 3, 2), status="booked", volunteer=volunteer)
        open_day(other, date(2027, 3, 3), period="am", status="done", volunteer=volunteer)
        half = open_day(site, date(2027, 3, 9), period="pm")
        another_half = open_day(site, date(2027, 3, 10), period="am")

        assert act(staff, half, "book", volunteer=volunteer.pk).status_code == 200
        assert refused(act(staff, another_half, "book", volunteer=volunteer.pk), "quota_exceeded")

    def test_the_quota_is_per_calendar_month_in_paris(self, staff, site, volunteer):
        # 31 March and 1 April: two months; 27 and 28 March straddle the DST change.
        other = make_public_site()
        open_day(other, date(2027, 3, 27), status="booked", volunteer=volunteer)
        dst_day = open_day(site, date(2027, 3, 28))
        last_of_march = open_day(site, date(2027, 3, 31))
        first_of_april = open_day(site, date(2027, 4, 1))

        assert act(staff, dst_day, "book", volunteer=volunteer.pk).status_code == 200
        assert refused(act(staff, last_of_march, "book", volunteer=volunteer.pk), "quota_exceeded")
        assert act(staff, first_of_april, "book", volunteer=volunteer.pk).status_code == 200

    def test_a_manager_may_raise_one_volunteers_maximum(self, staff, site, volunteer):
        volunteer.max_days_per_month = Decimal("5")
        volunteer.save()
        days = [open_day(site, date(2027, 3, d)) for d in (9, 10, 11)]

        assert all(
            act(staff, day, "book", volunteer=volunteer.pk).status_code == 200 for day in days
        )

    def test_a_requested_day_cannot_be_booked_for_someone_else(self, staff, site, volunteer):
        day = open_day(site, date(2027, 3, 9), status="requested", volunteer=volunteer)

        response = act(staff, day, "book", volunteer=VolunteerFactory().pk)

        assert refused(response, "invalid_transition")

    def test_a_day_taken_meanwhile_cannot_be_requested(self, site, volunteer):
        day = open_day(site, date(2027, 3, 9))
        Vacation.objects.filter(pk=day.pk).update(status="booked", volunteer=VolunteerFactory())

        with pytest.raises(DomainError) as refusal:
            services.vacation_request(vacation=day, volunteer=volunteer)

        assert refusal.value.code == "invalid_transition"

    def test_booking_emails_the_volunteer_once_committed(
        self, staff, site, volunteer, django_capture_on_commit_callbacks
    ):
        day = open_day(site, date(2027, 3, 9))

        with django_capture_on_commit_callbacks(execute=True):
            act(staff, day, "book", volunteer=volunteer.pk)

        assert [m.to for m in mail.outbox] == [[volunteer.user.email]]
        assert "09/03/2027" in mail.outbox[0].subject


class TestAfterBooking:
    def test_decline_and_withdraw_open_the_day_again_and_are_remembered(
        self, api, staff, site, volunteer
    ):
        secretary = staff.handler._force_user
        requested = open_day(site, date(2027, 3, 9), status="requested", volunteer=volunteer)
        booked = open_day(site, date(2027, 3, 10), status="booked", volunteer=volunteer)

        declined = act(staff, requested, "decline")
        withdrawn = act(as_volunteer(api, volunteer), booked, "withdraw")
        api.force_authenticate(secretary)
        again = act(api, requested, "decline")

        assert declined.json()["status"] == withdrawn.json()["status"] == "open"
        assert declined.json()["volunteer"] is None
        assert refused(again, "invalid_transition")
        assert sorted(VacationRelease.objects.values_list("kind", flat=True)) == [
            "declined",
            "withdrawn",
        ]

    def test_only_the_volunteer_withdraws_its_own_day(self, api, site, volunteer):
        day = open_day(site, date(2027, 3, 9), status="booked", volunteer=VolunteerFactory())

        # Someone else's booked day is not even visible to this volunteer.
        assert act(as_volunteer(api, volunteer), day, "withdraw").status_code == 404
        with pytest.raises(DomainError) as refusal:
            services.vacation_withdraw(vacation=day, volunteer=volunteer)
        assert refusal.value.code == "invalid_transition"
        day.refresh_from_db()
        assert day.status == "booked"

    def test_cancel_needs_a_reason(self, staff, site, volunteer):
        day = open_day(site, date(2027, 3, 9), status="booked", volunteer=volunteer)

        missing = act(staff, day, "cancel")
        done = act(staff, day, "cancel", reason="Fermeture exceptionnelle")
        again = act(staff, day, "cancel", reason="Encore")

        assert missing.status_code == 400
        assert "reason" in missing.json()
        assert done.json()["status"] == "cancelled"
        assert done.json()["cancellation_reason"] == "Fermeture exceptionnelle"
        assert refused(again, "invalid_transition")

    def test_a_day_is_completed_on_or_after_its_date_and_fixes_the_indemnity(
        self, staff, site, volunteer
    ):
        day = open_day(site, date(2027, 3, 9), status="booked", volunteer=volunteer)
        half = open_day(site, date(2027, 3, 10), period="am", status="booked", volunteer=volunteer)
        handed_over(day, half)

        early = act(staff, day, "complete", consultations_count=18, no_exams=True)
        with time_machine.travel(datetime(2027, 3, 10, 19, 0, tzinfo=PARIS), tick=False):
            full = act(staff, day, "complete", consultations_count=18, no_exams=True)
            halfday = act(staff, half, "complete", consultations_count=9, no_exams=True)
            again = act(staff, day, "complete", consultations_count=18, no_exams=True)

        assert refused(early, "invalid_transition")
        assert (full.json()["status"], full.json()["indemnity"]) == ("done", "200.00")
        assert halfday.json()["indemnity"] == "100.00"
        assert full.json()["consultations_count"] == 18
        assert refused(again, "invalid_transition")

    def test_a_no_show_is_recorded_after_the_day(self, staff, site, volunteer):
        day = open_day(site, date(2027, 3, 9), status="booked", volunteer=volunteer)

        before = act(staff, day, "no-show")
        with time_machine.travel(datetime(2027, 3, 9, 18, 0, tzinfo=PARIS), tick=False):
            after = act(staff, day, "no-show")

        assert refused(before, "invalid_transition")
        assert after.json()["status"] == "no_show"


class TestScope:
    def test_a_secretary_cannot_act_on_another_sites_days(self, staff, volunteer):
        other = make_public_site()
        booked = open_day(other, date(2027, 3, 9), status="booked", volunteer=volunteer)
        opened = open_day(other, date(2027, 3, 10))

        assert act(staff, booked, "cancel", reason="x").status_code == 404
        # An open day of a public site is visible (volunteers look for them), not bookable
        # by another site's secretary.
        assert act(staff, opened, "book", volunteer=volunteer.pk).status_code == 403
        assert Vacation.objects.filter(status="open").count() == 1

    def test_a_volunteer_sees_its_days_and_open_ones_only(self, api, site, volunteer):
        mine = open_day(site, date(2027, 3, 9), status="booked", volunteer=volunteer)
        theirs = open_day(site, date(2027, 3, 10), status="booked", volunteer=VolunteerFactory())
        free = open_day(site, date(2027, 3, 11))

        listed = as_volunteer(api, volunteer).get("/api/v1/vacations/").json()["results"]

        assert [v["id"] for v in listed] == [mine.pk, free.pk]
        assert api.get(f"/api/v1/vacations/{theirs.pk}/").status_code == 404


def test_slots_keep_their_meaning_on_the_dst_change():
    start, end = slot_bounds(date(2027, 3, 28), "day")
    noon = slot_bounds(date(2027, 3, 28), "am")[1]

    # Same-zone subtraction is wall-clock; the instants are 23 hours apart.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    assert noon.hour == 12
    assert noon.utcoffset() == timedelta(hours=2)


def test_staff_name_only_volunteers_they_see_or_the_one_who_asked(api, staff, site):
    from tests.factories import TerritoryFactory

    elsewhere = VolunteerFactory(territories=[TerritoryFactory(department_id="12")])
    day = open_day(site, date(2027, 3, 9))
    asked = open_day(site, date(2027, 3, 10))
    services.vacation_request(vacation=asked, volunteer=elsewhere)

    hidden = act(staff, day, "book", volunteer=elsewhere.pk)
    confirmed = act(staff, asked, "book", volunteer=elsewhere.pk)

    assert hidden.status_code == 400
    assert "volunteer" in hidden.json()
    assert confirmed.json()["status"] == "booked"
    day.refresh_from_db()
    assert day.status == "open"
