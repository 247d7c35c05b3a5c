"""The planning pages: a site's month, a day, booking, my planning, open days, coverage."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from sites.models import HostSite, InfoSheet
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    VolunteerFactory,
    handed_over,
    make_public_site,
    make_sheet,
    open_day,
)
from vacations import services
from vacations.models import PARIS, DayPreparation, Vacation, slot_bounds
from vacations.selectors import upcoming_presence
from volunteers.services import availability_declare

TODAY = date(2027, 3, 1)  # a Monday
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)
MARCH_TUESDAYS = [date(2027, 3, d) for d in (2, 9, 16, 23, 30)]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def site(db):
    return make_public_site(
        name="Maison de santé de Châteaumeillant",
        rooms=1,
        address="12 rue de la Poste",
        postal_code="18370",
        city="Châteaumeillant",
    )


@pytest.fixture
def secretary(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def volunteer(db):
    return VolunteerFactory()


def planning_url(site: HostSite, month: str | None = None) -> str:
    url = reverse("site_planning", args=[site.pk])
    return f"{url}?mois={month}" if month else url


def bulk_days(site, count, *, start=TODAY, volunteers=(), status="booked"):
    """`count` days at `site` in one query: the first 28 per volunteer taken by that volunteer
    (distinct dates: no overlap), the rest open; spread over four weeks and the three periods."""
    rows = []
    for index in range(count):
        day = start + timedelta(days=index % 28)
        period = ("day", "am", "pm")[(index // 28) % 3]
        owner = volunteers[index // 28] if index // 28 < len(volunteers) else None
        if owner is not None:
            period = "day"
        starts_at, ends_at = slot_bounds(day, period)
        rows.append(
            Vacation(
                site=site,
                date=day,
                period=period,
                starts_at=starts_at,
                ends_at=ends_at,
                consultation_minutes=20,
                status=status if owner else "open",
                volunteer=owner,
            )  # fmt: skip
        )
    return Vacation.objects.bulk_create(rows)


def ids_of(response, prefix: str) -> set[str]:
    return set(re.findall(rf'data-testid="{prefix}-(\d+)"', response.content.decode()))


def refusal_code(response) -> str | None:
    found = re.search(r'data-testid="refusal" data-code="([a-z_]+)"', response.content.decode())
    return found[1] if found else None


def section(response, testid: str) -> str:
    """The HTML of the <section data-testid=…> (to check in which list a day is)."""
    page = response.content.decode()
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</section>", start)]


# --- A site's month -------------------------------------------------------------------------


class TestSitePlanning:
    def test_it_shows_the_month_monday_first_with_each_days_vacations(
        self, client, secretary, site, volunteer
    ):
        booked = open_day(site, date(2027, 3, 9))
        services.vacation_book(vacation=booked, volunteer=volunteer, by=secretary)
        open_day(site, date(2027, 3, 10), "am")
        open_day(site, date(2027, 4, 6))  # another month
        client.force_login(secretary)

        response = client.get(planning_url(site, "2027-03"))

        assert response.status_code == 200
        calendar = response.context["calendar"]
        assert calendar.weeks[0].days[0].date == date(2027, 3, 1)  # a Monday
        assert all(week.days[0].date.weekday() == 0 for week in calendar.weeks)
        shown = {v.date: v.status for w in calendar.weeks for d in w.days for v in d.vacations}
        assert shown == {date(2027, 3, 9): "booked", date(2027, 3, 10): "open"}
        page = response.content.decode()
        assert 'data-testid="month-calendar"' in page
        assert volunteer.full_name in page
        assert f'data-vacation="{booked.pk}" data-status="booked"' in page
        assert "?mois=2027-02" in page
        assert "?mois=2027-04" in page

    def test_site_staff_and_managers_see_it_and_others_get_404(
        self, client, site, secretary, territory_manager, outsider_site
    ):
        nurse = member(Role.COURSE_NURSE, site=site)
        for user in (secretary, nurse, territory_manager):
            client.force_login(user)
            assert client.get(planning_url(site)).status_code == 200

        client.force_login(secretary)
        assert client.get(planning_url(outsider_site)).status_code == 404
        assert client.get(reverse("site_planning", args=[999_999])).status_code == 404
        client.force_login(VolunteerFactory().user)
        assert client.get(planning_url(site)).status_code == 404

    def test_a_bad_month_shows_the_current_one(self, client, secretary, site):
        client.force_login(secretary)

        response = client.get(planning_url(site, "2027-13"))

        assert response.status_code == 200
        assert response.context["calendar"].month == date(2027, 3, 1)

    @pytest.mark.parametrize("size", [5, 500])
    def test_it_costs_the_same_queries_whatever_the_number_of_days(
        self, client, django_assert_num_queries, secretary, site, size
    ):
        bulk_days(site, size, volunteers=VolunteerFactory.create_batch(2), status="requested")
        client.force_login(secretary)
        client.get(planning_url(site, "2027-03"))

        # session, user, site (get_site_for, with its feed's secret), memberships (the rules
        # and the shell), the secondary practices it runs (one calendar with theirs), requests
        # (count, page), the month's days, unread messages (bell)
        with django_assert_num_queries(9):
            response = client.get(planning_url(site, "2027-03"))

        assert response.status_code == 200
        shown = sum(len(d.vacations) for w in response.context["calendar"].weeks for d in w.days)
        assert shown == size
        assert response.context["requests_page"].paginator.count == min(size, 56)


class TestOpeningDays:
    def test_a_secretary_opens_every_tuesday_of_a_month_from_the_form(
        self, client, secretary, site
    ):
        client.force_login(secretary)

        response = client.post(
            planning_url(site, "2027-03"),
            {"month": "2027-03", "weekdays": ["1"], "extra_dates": "", "period": "day"},
        )

        assert response.status_code == 302
        assert response["Location"] == planning_url(site, "2027-03")
        assert list(Vacation.objects.order_by("date").values_list("date", flat=True)) == (
            MARCH_TUESDAYS
        )
        assert set(Vacation.objects.values_list("status", "period", "opened_by")) == {
            ("open", "day", secretary.pk)
        }
        assert len(ids_of(client.get(response["Location"]), "confirm")) == 0

    def test_weekdays_already_past_in_the_month_are_left_out(self, client, secretary, site):
        with time_machine.travel(datetime(2027, 3, 17, 9, 0, tzinfo=PARIS), tick=False):
            client.force_login(secretary)
            response = client.post(
                planning_url(site),
                {"month": "2027-03", "weekdays": ["1"], "period": "am"},
            )

        assert response["Location"] == planning_url(site, "2027-03")
        assert list(Vacation.objects.values_list("date", flat=True)) == MARCH_TUESDAYS[-2:]

    def test_a_refused_batch_writes_nothing_and_says_why(self, client, secretary, site):
        open_day(site, date(2027, 3, 16))  # the only room is taken that Tuesday
        client.force_login(secretary)

        response = client.post(
            planning_url(site, "2027-03"),
            {"month": "2027-03", "weekdays": ["1"], "period": "day"},
        )

        assert response.status_code == 200
        assert refusal_code(response) == "site_full"
        assert Vacation.objects.count() == 1

    def test_a_past_date_is_refused_and_nothing_is_written(self, client, secretary, site):
        client.force_login(secretary)

        response = client.post(
            planning_url(site),
            {"month": "2027-03", "extra_dates": "09/03/2027 28/02/2027", "period": "day"},
        )

        assert response.status_code == 200
        assert 'data-testid="refusal"' in response.content.decode()
        assert response.context["form"].non_field_errors()
        assert not Vacation.objects.exists()

    def test_a_site_that_cannot_host_is_refused(self, client, db):
        draft = HostSiteFactory()
        make_sheet(draft, status="submitted", ready=True)
        client.force_login(member(Role.SECRETARY, site=draft))

        response = client.post(
            planning_url(draft), {"month": "2027-03", "extra_dates": "09/03/2027", "period": "day"}
        )

        assert refusal_code(response) == "not_bookable"
        assert not Vacation.objects.exists()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"month": "2027-03", "period": "day"}, None),
            ({"month": "2027-03", "extra_dates": "le 9 mars", "period": "day"}, "extra_dates"),
            ({"month": "2031-01", "weekdays": ["1"], "period": "day"}, "month"),
            ({"month": "2027-03", "weekdays": ["1"], "period": "evening"}, "period"),
        ],
    )
    def test_bad_input_is_named_and_writes_nothing(self, client, secretary, site, data, field):
        client.force_login(secretary)

        response = client.post(planning_url(site), data)

        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors
        if field:
            assert field in form.errors
        assert not Vacation.objects.exists()

    def test_only_the_secretary_opens_days(self, client, site, territory_manager):
        nurse = member(Role.COURSE_NURSE, site=site)
        data = {"month": "2027-03", "weekdays": ["1"], "period": "day"}
        for user in (nurse, territory_manager):
            client.force_login(user)
            assert client.get(planning_url(site)).context["form"] is None
            assert client.post(planning_url(site), data).status_code == 403
        assert not Vacation.objects.exists()


class TestRequestsToConfirm:
    def test_the_secretary_confirms_one_request_and_declines_another(
        self, client, secretary, site, volunteer
    ):
        first, second = open_day(site, date(2027, 3, 9)), open_day(site, date(2027, 3, 10))
        other = VolunteerFactory()
        services.vacation_request(vacation=first, volunteer=volunteer)
        services.vacation_request(vacation=second, volunteer=other)
        client.force_login(secretary)
        page = client.get(planning_url(site, "2027-03"))
        assert ids_of(page, "confirm") == {str(first.pk), str(second.pk)}

        back = planning_url(site, "2027-03")
        confirmed = client.post(reverse("vacation_confirm", args=[first.pk]), {"next": back})
        declined = client.post(reverse("vacation_decline_page", args=[second.pk]), {"next": back})

        assert confirmed["Location"] == declined["Location"] == back
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, first.volunteer) == ("booked", volunteer)
        assert (second.status, second.volunteer) == ("open", None)
        assert ids_of(client.get(back), "confirm") == set()

    def test_a_manager_reads_the_requests_but_cannot_answer_them(
        self, client, site, territory_manager, volunteer
    ):
        day = open_day(site, date(2027, 3, 9))
        services.vacation_request(vacation=day, volunteer=volunteer)
        client.force_login(territory_manager)

        page = client.get(planning_url(site))
        response = client.post(reverse("vacation_confirm", args=[day.pk]))

        assert volunteer.full_name in section(page, "requests")
        assert ids_of(page, "confirm") == set()
        assert response.status_code == 403
        day.refresh_from_db()
        assert day.status == "requested"


# --- Booking a volunteer --------------------------------------------------------------------


class TestBookingPage:
    def test_it_lists_eligible_volunteers_available_ones_first_with_days_taken(
        self, client, secretary, site
    ):
        day = open_day(site, date(2027, 3, 9), "am")
        here = [site.territory]
        busy = VolunteerFactory(user__last_name="Aubert", territories=here)
        elsewhere = make_public_site()
        taken = open_day(elsewhere, date(2027, 3, 3), "pm")
        services.vacation_book(vacation=taken, volunteer=busy, by=secretary)
        free_here = VolunteerFactory(user__last_name="Zola", territories=here)
        availability_declare(
            volunteer=free_here, date=date(2027, 3, 9), territories=[site.territory]
        )
        free_elsewhere = VolunteerFactory(user__last_name="Bernard", territories=here)
        # Chose another territory only: not listed.
        VolunteerFactory(user__last_name="Arnaud", territories=[TerritoryFactory()])
        availability_declare(
            volunteer=free_elsewhere, date=date(2027, 3, 9), territories=[TerritoryFactory()]
        )
        pending = VolunteerFactory(status="pending", territories=here)
        uncommitted = VolunteerFactory(committed=False, territories=here)
        client.force_login(secretary)

        response = client.get(reverse("vacation_book_page", args=[day.pk]))

        assert response.status_code == 200
        listed = list(response.context["page_obj"])
        assert [v.pk for v in listed] == [free_here.pk, busy.pk, free_elsewhere.pk]
        assert [v.available for v in listed] == [True, False, False]
        assert [v.days_taken for v in listed] == [Decimal("0"), Decimal("0.5"), Decimal("0")]
        assert str(pending.pk) not in ids_of(response, "book")
        assert str(uncommitted.pk) not in ids_of(response, "book")

    def test_a_secretary_books_an_eligible_volunteer(self, client, secretary, site, volunteer):
        day = open_day(site, date(2027, 3, 9))
        client.force_login(secretary)

        response = client.post(
            reverse("vacation_book_page", args=[day.pk]), {"volunteer": volunteer.pk}
        )

        assert response.status_code == 302
        assert response["Location"] == planning_url(site, "2027-03")
        day.refresh_from_db()
        assert (day.status, day.volunteer, day.booked_at is not None) == (
            "booked",
            volunteer,
            True,
        )

    def test_a_volunteer_over_quota_is_refused_with_the_reason(self, client, secretary, site):
        full = VolunteerFactory(territories=[site.territory])
        other_site = make_public_site(rooms=2)
        for day in (date(2027, 3, 3), date(2027, 3, 4)):
            services.vacation_book(vacation=open_day(other_site, day), volunteer=full, by=secretary)
        day = open_day(site, date(2027, 3, 9))
        client.force_login(secretary)

        response = client.post(reverse("vacation_book_page", args=[day.pk]), {"volunteer": full.pk})

        assert response.status_code == 200
        assert refusal_code(response) == "quota_exceeded"
        row = next(v for v in response.context["page_obj"] if v.pk == full.pk)
        assert row.days_taken == 2
        day.refresh_from_db()
        assert (day.status, day.volunteer) == ("open", None)

    def test_an_ineligible_volunteer_is_refused(self, client, secretary, site):
        day = open_day(site, date(2027, 3, 9))
        client.force_login(secretary)

        response = client.post(
            reverse("vacation_book_page", args=[day.pk]),
            {"volunteer": VolunteerFactory(status="suspended").pk},
        )

        assert refusal_code(response) == "volunteer_not_eligible"
        day.refresh_from_db()
        assert day.status == "open"

    def test_only_the_sites_staff_book(self, client, site, territory_manager, volunteer):
        day = open_day(site, date(2027, 3, 9))
        url = reverse("vacation_book_page", args=[day.pk])
        for user in (territory_manager, member(Role.SECRETARY, site=make_public_site())):
            client.force_login(user)  # they see the (public) open day, but may not book it
            assert client.get(url).status_code == 403
            assert client.post(url, {"volunteer": volunteer.pk}).status_code == 403
        # A day at a site outside the catalogue and one's scope does not exist for them.
        hidden = HostSiteFactory()
        make_sheet(hidden, status="published", ready=True)
        HostSite.objects.filter(pk=hidden.pk).update(status="suspended")
        hidden_day = open_day(hidden, date(2027, 3, 9))
        assert client.get(reverse("vacation_book_page", args=[hidden_day.pk])).status_code == 404
        day.refresh_from_db()
        assert day.status == "open"

    @pytest.mark.parametrize("size", [5, 60])
    def test_it_lists_candidates_at_a_constant_cost(
        self, client, django_assert_num_queries, secretary, site, size
    ):
        day = open_day(site, date(2027, 3, 9))
        VolunteerFactory.create_batch(size, territories=[site.territory])
        client.force_login(secretary)

        # session, user, day, memberships (the rule, and the shell), count, page, unread
        # messages (the bell)
        with django_assert_num_queries(7):
            response = client.get(reverse("vacation_book_page", args=[day.pk]))

        assert response.context["page_obj"].paginator.count == size


# --- A day and its actions ------------------------------------------------------------------


class TestDayPage:
    def test_staff_cancel_a_day_with_a_reason(self, client, secretary, site, volunteer):
        day = open_day(site, date(2027, 3, 9))
        services.vacation_book(vacation=day, volunteer=volunteer, by=secretary)
        client.force_login(secretary)
        url = reverse("vacation_cancel_page", args=[day.pk])

        blank = client.post(url, {"reason": "  "})
        day.refresh_from_db()
        assert (blank.status_code, day.status) == (200, "booked")
        assert "reason" in blank.context["cancel_form"].errors

        response = client.post(url, {"reason": "Fermeture exceptionnelle"})

        assert response.status_code == 302
        day.refresh_from_db()
        assert (day.status, day.cancellation_reason) == ("cancelled", "Fermeture exceptionnelle")

    def test_staff_record_a_day_done_or_a_no_show_on_or_after_its_date(
        self, client, secretary, site
    ):
        done, absent = open_day(site, date(2027, 3, 2)), open_day(site, date(2027, 3, 3))
        for day, who in ((done, VolunteerFactory()), (absent, VolunteerFactory())):
            services.vacation_book(vacation=day, volunteer=who, by=secretary)
        client.force_login(secretary)

        closing = {"consultations_count": 18, "no_exams": "on"}
        early = client.post(reverse("vacation_complete_page", args=[done.pk]), closing)
        assert early.context["complete_form"].refusal_code == "invalid_transition"
        with time_machine.travel(datetime(2027, 3, 4, 9, 0, tzinfo=PARIS), tick=False):
            unclosed = client.post(reverse("vacation_complete_page", args=[done.pk]), closing)
            assert unclosed.context["complete_form"].refusal_code == "closure_incomplete"
            handed_over(done)
            client.post(reverse("vacation_complete_page", args=[done.pk]), closing)
            client.post(reverse("vacation_no_show_page", args=[absent.pk]))

        done.refresh_from_db()
        absent.refresh_from_db()
        assert (done.status, done.consultations_count, done.indemnity) == (
            "done",
            18,
            Decimal("200.00"),
        )
        assert absent.status == "no_show"

    def test_the_volunteer_and_the_staff_tick_the_preparation_checklist(
        self, client, secretary, site, volunteer
    ):
        day = open_day(site, date(2027, 3, 9))
        services.vacation_book(vacation=day, volunteer=volunteer, by=secretary)
        url = reverse("vacation_preparation", args=[day.pk])

        client.force_login(volunteer.user)
        page = client.get(reverse("vacation_detail", args=[day.pk]))
        assert page.context["preparation_form"] is not None
        client.post(url, {"previous_handover_read": "on"})
        client.force_login(secretary)
        client.post(url, {"licence_ready": "on", "previous_handover_read": "on"})

        preparation = DayPreparation.objects.get(vacation=day)
        assert (preparation.licence_ready, preparation.cps_access_checked) == (True, False)
        assert preparation.previous_handover_read
        assert preparation.updated_by == secretary
        client.force_login(VolunteerFactory().user)
        assert client.post(url, {"licence_ready": "on"}).status_code == 404

    def test_a_manager_reads_a_day_but_cannot_act_on_it(self, client, site, territory_manager):
        day = open_day(site, date(2027, 3, 9))
        client.force_login(territory_manager)

        page = client.get(reverse("vacation_detail", args=[day.pk]))
        cancel = client.post(reverse("vacation_cancel_page", args=[day.pk]), {"reason": "Non"})

        assert page.status_code == 200
        assert not page.context["can_cancel"]
        assert cancel.status_code == 403
        day.refresh_from_db()
        assert day.status == "open"


# --- A volunteer's side ---------------------------------------------------------------------


class TestVolunteerJourney:
    def test_a_volunteer_requests_an_open_day_from_the_search_and_sees_it_in_my_planning(
        self, client, site, volunteer
    ):
        day = open_day(site, date(2027, 3, 9), "am")
        client.force_login(volunteer.user)

        search = client.get(reverse("open_days"), {"period": "am"})
        assert ids_of(search, "request") == {str(day.pk)}
        response = client.post(
            reverse("vacation_request_page", args=[day.pk]),
            {"next": reverse("open_days") + "?period=am"},
        )

        assert response.status_code == 302
        assert response["Location"] == reverse("my_planning")
        day.refresh_from_db()
        assert (day.status, day.volunteer) == ("requested", volunteer)
        planning = client.get(reverse("my_planning"))
        assert f'data-vacation="{day.pk}"' in section(planning, "requested")
        assert site.name in section(planning, "requested")
        assert ids_of(client.get(reverse("open_days")), "request") == set()

    def test_a_refused_request_goes_back_to_the_search_with_the_reason(
        self, client, site, volunteer, secretary
    ):
        other = make_public_site(rooms=2)
        for day in (date(2027, 3, 3), date(2027, 3, 4)):
            services.vacation_book(vacation=open_day(other, day), volunteer=volunteer, by=secretary)
        day = open_day(site, date(2027, 3, 9))
        client.force_login(volunteer.user)
        back = reverse("open_days") + "?period=day"

        response = client.post(reverse("vacation_request_page", args=[day.pk]), {"next": back})

        assert response["Location"] == back
        page = client.get(back)
        errors = [m for m in page.context["messages"] if m.level_tag == "error"]
        assert len(errors) == 1
        assert 'role="alert"' in page.content.decode()
        day.refresh_from_db()
        assert (day.status, day.volunteer) == ("open", None)

    def test_a_volunteer_withdraws_and_records_a_past_day(self, client, site, volunteer, secretary):
        coming = open_day(site, date(2027, 3, 9))
        services.vacation_book(vacation=coming, volunteer=volunteer, by=secretary)
        with time_machine.travel(datetime(2027, 2, 1, 9, 0, tzinfo=PARIS), tick=False):
            past = open_day(site, date(2027, 2, 20))
            services.vacation_book(vacation=past, volunteer=volunteer, by=secretary)
        client.force_login(volunteer.user)
        planning = client.get(reverse("my_planning"))
        assert f'data-vacation="{coming.pk}"' in section(planning, "upcoming")
        assert f'data-vacation="{past.pk}"' in section(planning, "to-close")

        client.post(reverse("vacation_withdraw_page", args=[coming.pk]))
        handed_over(past)
        client.post(
            reverse("vacation_complete_page", args=[past.pk]),
            {"consultations_count": 21, "no_exams": "on"},
        )

        coming.refresh_from_db()
        past.refresh_from_db()
        assert (coming.status, coming.volunteer) == ("open", None)
        assert (past.status, past.consultations_count) == ("done", 21)
        history = section(client.get(reverse("my_planning")), "history")
        assert f'data-vacation="{past.pk}"' in history
        assert "200" in history

    def test_my_planning_links_the_private_calendar_feed(self, client, volunteer):
        client.force_login(volunteer.user)

        response = client.get(reverse("my_planning"))

        feed = reverse("volunteer_calendar", kwargs={"token": volunteer.calendar_token})
        assert response.context["calendar_url"] == f"http://testserver{feed}"
        assert feed in response.content.decode()

    def test_someone_without_a_profile_is_told_so(self, client, user):
        client.force_login(user)

        response = client.get(reverse("my_planning"))

        assert response.status_code == 200
        assert 'data-testid="no-profile"' in response.content.decode()

    @pytest.mark.parametrize("size", [0, 1, 5, 500])
    def test_my_planning_costs_the_same_queries_whatever_the_number_of_days(
        self, client, django_assert_num_queries, site, volunteer, size
    ):
        statuses = ("done", "no_show", "cancelled", "booked", "requested")
        rows = []
        for index in range(size):
            # Half before today (history, or to close), half after; one date each.
            day = TODAY + timedelta(days=index - size // 2)
            status = statuses[index % 5] if day < TODAY else ("booked", "requested")[index % 2]
            starts_at, ends_at = slot_bounds(day, "day")
            rows.append(
                Vacation(
                    site=site,
                    date=day,
                    period="day",
                    starts_at=starts_at,
                    ends_at=ends_at,
                    consultation_minutes=25,
                    status=status,
                    volunteer=volunteer,
                    consultations_count=12 if status == "done" else None,
                    indemnity=Decimal("200") if status == "done" else None,
                )  # fmt: skip
            )
        Vacation.objects.bulk_create(rows)
        client.force_login(volunteer.user)

        # session, user, profile, active days, history (count, page), memberships, unread
        # messages (the bell)
        with django_assert_num_queries(8):
            response = client.get(reverse("my_planning"))

        planning = response.context["planning"]
        assert planning.history.paginator.count == len(
            [r for r in rows if r.status in ("done", "no_show", "cancelled")]
        )
        assert len(planning.upcoming) + len(planning.requested) == size - size // 2

    def test_my_planning_with_no_past_day_costs_the_same_queries(
        self, client, django_assert_num_queries, site, volunteer
    ):
        """An empty history still reads its page (Django's paginator would skip that query:
        7 queries instead of 8, the count then depends on the data)."""
        bulk_days(site, 3, start=TODAY + timedelta(days=2), volunteers=[volunteer])
        client.force_login(volunteer.user)

        with django_assert_num_queries(8):
            response = client.get(reverse("my_planning"))

        assert response.context["planning"].history.paginator.count == 0
        assert len(response.context["planning"].upcoming) == 3


# --- Open days ------------------------------------------------------------------------------


class TestOpenDaysSearch:
    def test_it_lists_open_days_of_public_sites_from_today_with_the_sheets_facts(
        self, client, site, volunteer
    ):
        shown = open_day(site, date(2027, 3, 9))
        missing = site.info_sheet.readiness.filter(item__mandatory=True).first()
        site.info_sheet.readiness.filter(pk=missing.pk).update(status="missing")
        InfoSheet.objects.filter(site=site).update(consultation_minutes=30)
        past = open_day(site, date(2027, 2, 26))
        draft = HostSiteFactory()
        make_sheet(draft, status="submitted", ready=True)
        hidden = open_day(draft, date(2027, 3, 9))
        taken = open_day(site, date(2027, 3, 10))
        services.vacation_request(vacation=taken, volunteer=VolunteerFactory())
        client.force_login(volunteer.user)

        response = client.get(reverse("open_days"))

        assert [v.pk for v in response.context["page_obj"]] == [shown.pk]
        row = response.context["page_obj"][0]
        assert (row.readiness_mandatory_ok, row.readiness_mandatory) == (6, 7)
        page = response.content.decode()
        assert "6/7" in page
        assert "Châteaumeillant" in page
        assert {past.pk, hidden.pk, taken.pk}.isdisjoint(
            int(pk) for pk in ids_of(response, "request")
        )

    def test_it_filters_by_territory_region_dates_and_period(self, client, site, volunteer):
        occitanie = make_public_site(territory=TerritoryFactory(department_id="12"))
        march_9 = open_day(site, date(2027, 3, 9), "am")
        march_20 = open_day(site, date(2027, 3, 20), "pm")
        south = open_day(occitanie, date(2027, 3, 9))
        client.force_login(volunteer.user)

        def found(**filters):
            response = client.get(reverse("open_days"), filters)
            return {v.pk for v in response.context["page_obj"]}

        assert found() == {march_9.pk, march_20.pk, south.pk}
        assert found(territory=site.territory_id) == {march_9.pk, march_20.pk}
        assert found(region="76") == {south.pk}
        assert found(date_from="2027-03-10") == {march_20.pk}
        assert found(date_to="2027-03-09") == {march_9.pk, south.pk}
        assert found(period="pm") == {march_20.pk}
        assert found(date_from="2027-03-20", date_to="2027-03-01") == {march_20.pk}

    @pytest.mark.parametrize("size", [5, 500])
    def test_it_costs_the_same_queries_whatever_the_number_of_days(
        self, client, django_assert_num_queries, volunteer, size
    ):
        for index in range(5):
            bulk_days(make_public_site(rooms=50), size // 5, start=TODAY + timedelta(days=index))
        client.force_login(volunteer.user)

        # session, user, territories of the filter, count, page, profile, its current
        # commitment (may it request a day), memberships, unread messages (the bell)
        with django_assert_num_queries(9):
            response = client.get(reverse("open_days"), {"period": "day", "page": 2})

        assert response.status_code == 200
        assert (
            response.context["page_obj"].paginator.count
            == len([i for i in range(size // 5) if (i // 28) % 3 == 0]) * 5
        )


# --- Coverage -------------------------------------------------------------------------------


class TestCoverage:
    def test_it_counts_open_taken_and_done_days_per_site_and_week(
        self, client, site, territory_manager, secretary, outsider_site
    ):
        other = make_public_site(territory=site.territory, name="Cabinet du Châtelet", rooms=3)
        a, b, c = VolunteerFactory(), VolunteerFactory(), VolunteerFactory()
        # Week of 1 March at `site`: 1 open, 1 booked, 1 requested; week of 8 March: 1 done.
        open_day(site, date(2027, 3, 1))
        services.vacation_book(vacation=open_day(site, date(2027, 3, 2)), volunteer=a, by=secretary)
        services.vacation_request(vacation=open_day(site, date(2027, 3, 3)), volunteer=b)
        done = open_day(site, date(2027, 3, 9))
        services.vacation_book(vacation=done, volunteer=c, by=secretary)
        with time_machine.travel(datetime(2027, 3, 9, 18, 0, tzinfo=PARIS), tick=False):
            handed_over(done)
            services.vacation_complete(
                vacation=done, by=secretary, consultations_count=20, no_exams=True
            )
        # Not counted: cancelled, outside the weeks, another manager's site.
        services.vacation_cancel(
            vacation=open_day(site, date(2027, 3, 4)), by=secretary, reason="Fermé"
        )
        open_day(site, date(2027, 5, 4))
        open_day(outsider_site, date(2027, 3, 2))
        # `other`: two half-days open in the week of 15 March.
        open_day(other, date(2027, 3, 16), "am")
        open_day(other, date(2027, 3, 16), "pm")
        client.force_login(territory_manager)

        response = client.get(reverse("coverage"), {"debut": "2027-03-03", "semaines": "4"})

        assert response.status_code == 200
        assert response.context["start"] == date(2027, 3, 1)
        grid = {
            row.site.name: [(c.open, c.taken, c.done) for c in row.cells]
            for row in response.context["rows"]
        }
        assert grid == {
            "Cabinet du Châtelet": [(0, 0, 0), (0, 0, 0), (2, 0, 0), (0, 0, 0)],
            site.name: [(1, 2, 0), (0, 0, 1), (0, 0, 0), (0, 0, 0)],
        }
        page = response.content.decode()
        assert 'data-testid="legend"' in page
        assert 'data-open="1" data-taken="2" data-done="0"' in page

    def test_it_is_for_managers_only(self, client, secretary, volunteer, ars_manager):
        client.force_login(secretary)
        assert client.get(reverse("coverage")).status_code == 403
        client.force_login(volunteer.user)
        assert client.get(reverse("coverage")).status_code == 403
        client.force_login(ars_manager)
        assert client.get(reverse("coverage"), {"semaines": "999"}).status_code == 200

    @pytest.mark.parametrize("size", [3, 30])
    def test_it_counts_in_one_query_whatever_the_number_of_sites_and_days(
        self, client, django_assert_num_queries, site, territory_manager, size
    ):
        for _index in range(size):
            bulk_days(make_public_site(territory=site.territory), 10)
        client.force_login(territory_manager)

        # session, user, roles (reused by the page shell), count, page of sites, the counts,
        # unread messages (the bell)
        with django_assert_num_queries(7):
            response = client.get(reverse("coverage"), {"debut": "2027-03-01"})

        rows = response.context["rows"]
        assert len(rows) == min(size + 1, 20)
        filled = [row for row in rows if row.site != site]
        assert sum(c.open for row in rows for c in row.cells) == 10 * len(filled)


# --- The public page's presence list, and the navigation ------------------------------------


def test_upcoming_presence_says_when_a_doctor_comes_never_who(site, secretary, volunteer):
    booked = open_day(site, date(2027, 3, 9), "pm")
    services.vacation_book(vacation=booked, volunteer=volunteer, by=secretary)
    open_day(site, date(2027, 3, 10))
    later = open_day(site, date(2027, 3, 16))
    services.vacation_book(vacation=later, volunteer=volunteer, by=secretary)

    presence = upcoming_presence(site, today=TODAY, limit=1)
    assert [(p.date, p.period) for p in presence] == [(date(2027, 3, 9), "pm")]
    assert len(upcoming_presence(site, today=date(2027, 3, 10))) == 1

    from django.template.loader import render_to_string

    html = render_to_string("vacations/presence.html", {"presence": presence})
    assert 'data-date="2027-03-09" data-period="pm"' in html
    assert volunteer.full_name not in html


def test_volunteers_and_managers_find_their_planning_pages_in_the_menu(
    client, volunteer, territory_manager
):
    def menu(user):
        client.force_login(user)
        return {item["url"] for item in client.get(reverse("home")).context["nav_items"]}

    assert {reverse("my_planning"), reverse("open_days")} <= menu(volunteer.user)
    # Managers' "Coverage" is the dashboard (`/pilotage/couverture/`); the week-by-week grid
    # of sites (`coverage`) opens from it.
    assert reverse("reports:coverage") not in menu(volunteer.user)
    assert reverse("reports:coverage") in menu(territory_manager)
    assert reverse("coverage") not in menu(territory_manager)
    assert reverse("my_planning") not in menu(territory_manager)


def test_the_public_site_page_lists_upcoming_days_with_a_doctor_but_no_name(client, db):
    site = make_public_site()
    volunteer = VolunteerFactory()
    today = timezone.localdate()
    open_day(site, today + timedelta(days=3), "am", status="booked", volunteer=volunteer)
    open_day(site, today + timedelta(days=4))  # open: nobody expected yet
    open_day(site, today - timedelta(days=3), status="done", volunteer=volunteer)

    page = client.get(reverse("public_site", args=[site.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="presence"' in html
    assert f'data-date="{(today + timedelta(days=3)).isoformat()}"' in html
    assert f'data-date="{(today + timedelta(days=4)).isoformat()}"' not in html
    assert volunteer.user.last_name not in html
