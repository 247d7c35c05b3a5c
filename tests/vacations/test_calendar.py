from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from icalendar import Calendar

from sites.models import KeyContact
from tests.browser.journey import fr
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services
from vacations.models import PARIS

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def volunteer(db):
    return VolunteerFactory()


@pytest.fixture
def site(db):
    site = make_public_site(
        address="12 rue de la Poste", postal_code="18370", city="Châteaumeillant"
    )
    KeyContact.objects.create(
        sheet=site.info_sheet, service="laboratory", name="Labo Berry", phone="02 48 96 12 34"
    )
    return site


def feed(client, volunteer):
    response = client.get(f"/calendar/{volunteer.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(calendar):
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_holds_exactly_the_volunteers_days_with_their_status(client, volunteer, site):
    requested = open_day(site, date(2027, 3, 9), status="requested", volunteer=volunteer)
    booked = open_day(site, date(2027, 3, 10), "am", status="booked", volunteer=volunteer)
    done = open_day(site, date(2027, 2, 20), status="done", volunteer=volunteer)
    open_day(site, date(2027, 3, 11))  # open: not the volunteer's
    open_day(site, date(2027, 3, 12), status="booked", volunteer=VolunteerFactory())

    found = events(feed(client, volunteer))

    assert {uid: str(e["status"]) for uid, e in found.items()} == {
        f"vacation-{requested.pk}@releve": "TENTATIVE",
        f"vacation-{booked.pk}@releve": "CONFIRMED",
        f"vacation-{done.pk}@releve": "CONFIRMED",
    }
    morning = found[f"vacation-{booked.pk}@releve"]
    assert morning.decoded("dtstart") == datetime(2027, 3, 10, 8, 30, tzinfo=PARIS)
    assert "12 rue de la Poste, 18370 Châteaumeillant" in str(morning["location"])
    assert "Labo Berry" in str(morning["description"])
    assert f"/lieux/{site.pk}/" in str(morning["description"])
    full_day = found[f"vacation-{requested.pk}@releve"]
    assert full_day.decoded("dtstart") == datetime(2027, 3, 9, 8, 30, tzinfo=PARIS)
    assert full_day.decoded("dtend") == datetime(2027, 3, 9, 18, 30, tzinfo=PARIS)


def test_the_calendar_feed_events_carry_times_in_europe_paris(client, volunteer, site, settings):
    """Not all-day events: the arrival time of the day's preparation, else the period's usual
    hours (settings), with TZID=Europe/Paris and its VTIMEZONE, in summer time too; the site's
    feed shows the same hours."""
    settings.RELEVE_USUAL_HOURS = {
        "day": ("09:00", "18:00"), "am": ("08:15", "12:30"), "pm": ("13:30", "17:45"),
    }  # fmt: skip
    prepared = open_day(site, date(2027, 3, 10), status="booked", volunteer=volunteer)
    services.preparation_update(vacation=prepared, by=None, arrival_time=time(7, 45))
    morning = open_day(site, date(2027, 7, 6), "am", status="booked", volunteer=volunteer)
    afternoon = open_day(site, date(2027, 3, 11), "pm", status="requested", volunteer=volunteer)
    late = open_day(site, date(2027, 3, 12), "am", status="booked", volunteer=volunteer)
    services.preparation_update(vacation=late, by=None, arrival_time=time(13, 0))

    response = client.get(f"/calendar/{volunteer.calendar_token}.ics")
    calendar = Calendar.from_ical(response.content)
    found = events(calendar)

    def hours(day):
        event = found[f"vacation-{day.pk}@releve"]
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert event["dtstart"].params["TZID"] == event["dtend"].params["TZID"] == "Europe/Paris"
        assert start.utcoffset() is not None  # aware
        return start, end

    paris = lambda d, h, m: datetime(d.year, d.month, d.day, h, m, tzinfo=PARIS)  # noqa: E731
    assert hours(prepared) == (paris(prepared.date, 7, 45), paris(prepared.date, 18, 0))
    assert hours(morning) == (paris(morning.date, 8, 15), paris(morning.date, 12, 30))
    assert hours(morning)[0].utcoffset() == timedelta(hours=2)  # summer time
    assert hours(afternoon) == (paris(afternoon.date, 13, 30), paris(afternoon.date, 17, 45))
    assert hours(late) == (paris(late.date, 13, 0), paris(late.date, 17, 15))  # usual length
    assert b"DTSTART;TZID=Europe/Paris:20270310T074500" in response.content
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert calendar.get_missing_tzids() == set()
    site_feed = events(
        Calendar.from_ical(client.get(f"/calendar/site/{site.calendar_token}.ics").content)
    )
    assert site_feed[f"vacation-{prepared.pk}@releve"].decoded("dtstart") == paris(
        prepared.date, 7, 45
    )


def test_uids_stay_stable_across_fetches_and_status_changes(client, volunteer, site):
    day = open_day(site, date(2027, 3, 9), status="requested", volunteer=volunteer)

    first = events(feed(client, volunteer))
    services.vacation_book(vacation=day, volunteer=volunteer, by=None)
    second = events(feed(client, volunteer))

    assert set(first) == set(second) == {f"vacation-{day.pk}@releve"}
    assert str(second[f"vacation-{day.pk}@releve"]["status"]) == "CONFIRMED"
    assert (
        second[f"vacation-{day.pk}@releve"]["sequence"]
        >= first[f"vacation-{day.pk}@releve"]["sequence"]
    )


def test_withdrawn_and_cancelled_days_show_as_cancelled_for_30_days(client, volunteer, site):
    withdrawn = open_day(site, date(2027, 3, 9), status="booked", volunteer=volunteer)
    cancelled = open_day(site, date(2027, 3, 10), status="booked", volunteer=volunteer)
    services.vacation_withdraw(vacation=withdrawn, volunteer=volunteer)
    services.vacation_cancel(vacation=cancelled, by=None, reason="Fermeture")

    now = events(feed(client, volunteer))
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        later = events(feed(client, volunteer))

    assert {uid: str(e["status"]) for uid, e in now.items()} == {
        f"vacation-{withdrawn.pk}@releve": "CANCELLED",
        f"vacation-{cancelled.pk}@releve": "CANCELLED",
    }
    assert later == {}


def test_a_rotated_token_makes_the_old_url_answer_404(api, client, volunteer):
    old = volunteer.calendar_token
    api.force_authenticate(volunteer.user)

    shown = api.get("/api/v1/volunteers/me/calendar/").json()["url"]
    rotated = api.post("/api/v1/volunteers/me/calendar/rotate/").json()["url"]

    assert shown.endswith(f"/calendar/{old}.ics")
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert rotated != shown
    assert client.get(rotated.replace("http://testserver", "")).status_code == 200


def test_a_site_feed_lists_its_days_with_the_volunteer(client, volunteer, site):
    booked = open_day(site, date(2027, 3, 9), status="booked", volunteer=volunteer)
    open_day(site, date(2027, 3, 10))  # open, nobody expected yet
    found = events(
        Calendar.from_ical(client.get(f"/calendar/site/{site.calendar_token}.ics").content)
    )

    assert list(found) == [f"vacation-{booked.pk}@releve"]
    assert volunteer.full_name in str(found[f"vacation-{booked.pk}@releve"]["summary"])
    assert client.get("/calendar/site/nope.ics").status_code == 404


@pytest.mark.parametrize("size", [0, 2, 40])
def test_the_feed_costs_the_same_queries_whatever_its_size(
    client, volunteer, site, django_assert_num_queries, size
):
    """Equal counts with no day at all and with days of every kind (active, cancelled lately,
    let go of): the volunteer, the days it let go of, its days, their sites' contacts."""
    for offset in range(size):
        open_day(
            site, date(2027, 4, 1) + timedelta(days=offset), status="booked", volunteer=volunteer
        )
    if size:
        open_day(site, date(2027, 3, 20), status="cancelled", volunteer=volunteer, cancelled_at=NOW)
        let_go = open_day(site, date(2027, 3, 21), status="requested", volunteer=volunteer)
        services.vacation_withdraw(vacation=let_go, volunteer=volunteer)

    with django_assert_num_queries(4):
        response = client.get(f"/calendar/{volunteer.calendar_token}.ics")

    assert len(events(Calendar.from_ical(response.content))) == (size + 2 if size else 0)


@pytest.mark.parametrize("size", [0, 3])
def test_the_site_feed_costs_the_same_queries_whatever_its_size(
    client, volunteer, site, django_assert_num_queries, size
):
    for offset in range(size):
        open_day(
            site, date(2027, 4, 1) + timedelta(days=offset), status="booked", volunteer=volunteer
        )

    with django_assert_num_queries(3):
        client.get(f"/calendar/site/{site.calendar_token}.ics")


def test_site_staff_find_the_sites_feed_on_the_planning_page(client, site):
    from accounts.roles import Role
    from tests.conftest import member

    client.force_login(member(Role.SECRETARY, site=site))

    first = client.get(f"/sites/{site.pk}/planning/").context["calendar_url"]
    again = client.get(f"/sites/{site.pk}/planning/").context["calendar_url"]

    assert first == again
    assert client.get(first.replace("http://testserver", "")).status_code == 200


def test_the_planning_page_offers_to_subscribe_copy_and_rotate_the_calendar(client, volunteer):
    """The subscribe block next to the planning: the webcal:// link (same host and path as the
    https address), the address to copy, the instructions, and a new link from there."""
    client.force_login(volunteer.user)
    old = f"/calendar/{volunteer.calendar_token}.ics"

    page = client.get("/mon-planning/")
    html = page.content.decode()
    rotated = client.post(
        "/volontaire/calendrier/nouveau-lien/", {"next": "/mon-planning/#calendar-subscribe"}
    )
    volunteer.refresh_from_db()

    assert page.context["calendar_url"] == f"http://testserver{old}"
    assert page.context["webcal_url"] == f"webcal://testserver{old}"
    assert f'href="webcal://testserver{old}"' in html
    assert f'value="http://testserver{old}"' in html
    assert 'data-copy="calendar-url"' in html
    assert "releve/copy-link.js" in html
    for app in ("Google Agenda", "Outlook", "Apple Calendar (iPhone, iPad, Mac)"):
        assert fr(app) in html
    assert 'action="/volontaire/calendrier/nouveau-lien/"' in html
    assert rotated.status_code == 302
    assert rotated.url == "/mon-planning/#calendar-subscribe"
    assert client.get(old).status_code == 404
    assert client.get(f"/calendar/{volunteer.calendar_token}.ics").status_code == 200


def test_the_calendar_rotation_goes_back_only_to_a_local_page(client, volunteer):
    client.force_login(volunteer.user)

    response = client.post(
        "/volontaire/calendrier/nouveau-lien/", {"next": "https://evil.example/"}
    )

    assert response.url == "/volontaire/profil/#calendar"
