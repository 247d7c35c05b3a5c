"""Private iCal feeds: a volunteer's days, and a site's (the secret token is the credential).

Every event carries its real hours in Europe/Paris (a VTIMEZONE describes the zone): from the
arrival time set in the day's preparation, else the period's usual start, to the period's usual
end (`settings.RELEVE_USUAL_HOURS`). Its UID is the day's, whatever its status.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from sites.models import HostSite, KeyContact
from vacations.models import PARIS, Vacation, VacationRelease, usual_hours
from volunteers.models import Volunteer

# Calendar clients only remove an event they saw cancelled: keep cancelled ones this long.
KEEP_CANCELLED = timedelta(days=30)
STATUS = {
    Vacation.Status.REQUESTED: "TENTATIVE",
    Vacation.Status.BOOKED: "CONFIRMED",
    Vacation.Status.DONE: "CONFIRMED",
}
# The VTIMEZONE's span: it must cover every event of the feed (past days are kept).
TIMEZONE_SPAN = (date(2020, 1, 1), date(2050, 1, 1))


def _vacations():
    return Vacation.objects.select_related("site__info_sheet", "volunteer__user", "preparation")


def _with_contacts(days) -> list[Vacation]:
    """The days of `days` (a queryset) with their sites' key contacts, in two queries whatever
    they hold: the contacts are read through a subquery of the same days rather than by a
    prefetch (which skips its query when there is no day, so an empty feed would cost one
    query less than a full one: query counts must not depend on the data, issue 14)."""
    vacations = list(days)
    contacts: dict[int, list[KeyContact]] = {}
    rows = KeyContact.objects.filter(sheet__site__in=days.order_by().values("site_id")).order_by(
        "-priority", "position", "pk"
    )
    for contact in rows:
        contacts.setdefault(contact.sheet_id, []).append(contact)
    for vacation in vacations:
        sheet = getattr(vacation.site, "info_sheet", None)
        if sheet is not None:
            sheet._prefetched_objects_cache = {"contacts": contacts.get(sheet.pk, [])}
    return vacations


def event_times(vacation: Vacation) -> tuple[datetime, datetime]:
    """When the volunteer is expected (the preparation's arrival time, else the period's usual
    start) and the period's usual end, aware in Paris time. An arrival set after the usual end
    keeps the period's usual length, so that an event never ends before it starts."""
    usual_start, usual_end = usual_hours(vacation.period)
    preparation = getattr(vacation, "preparation", None)  # select_related: no query
    arrival = getattr(preparation, "arrival_time", None) or usual_start
    start = datetime.combine(vacation.date, arrival, tzinfo=PARIS)
    end = datetime.combine(vacation.date, usual_end, tzinfo=PARIS)
    if end <= start:
        length = datetime.combine(vacation.date, usual_end) - datetime.combine(
            vacation.date, usual_start
        )
        end = start + length
    return start, end


def _event(vacation: Vacation, *, status: str, for_site: bool = False) -> Event:
    site = vacation.site
    event = Event()
    event.add("uid", f"vacation-{vacation.pk}@releve")
    event.add("dtstamp", timezone.now())
    event.add("sequence", int(vacation.updated_at.timestamp()) % 2_000_000_000)
    start, end = event_times(vacation)
    event.add("dtstart", start)
    event.add("dtend", end)
    who = vacation.volunteer.full_name if for_site and vacation.volunteer_id else None
    event.add("summary", f"Relève — {site}" + (f" — {who}" if who else ""))
    event.add("location", site.full_address or str(site))
    event.add("status", status)
    lines = [f"{site} ({vacation.get_period_display()})"]
    sheet = getattr(site, "info_sheet", None)
    if sheet is not None:
        lines += [f"{c.get_service_display()} : {c.name} — {c.phone}" for c in sheet.contacts.all()]
    url = settings.SITE_URL + reverse("public_site", args=[site.pk])
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    return event


def _calendar(name: str, events: list[Event]) -> HttpResponse:
    calendar = Calendar()
    calendar.add("prodid", "-//Relève//releve//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Paris")
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones(*TIMEZONE_SPAN)  # the events' TZID=Europe/Paris
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="releve.ics"'
    return response


@never_cache
@require_GET
def volunteer_feed(request, token: str):
    volunteer = Volunteer.objects.select_related("user").filter(calendar_token=token).first()
    if volunteer is None:
        raise Http404
    since = timezone.now() - KEEP_CANCELLED
    mine = Q(volunteer=volunteer, status__in=list(STATUS))
    # The ids first (one query, always run): inside the OR below, a subquery would make
    # PostgreSQL scan every day; a list of ids keeps each branch on its index.
    released_ids = list(
        VacationRelease.objects.filter(volunteer=volunteer, at__gte=since).values_list(
            "vacation_id", flat=True
        )
    )
    # One query for the three kinds of days: its own (active), its own cancelled lately, and
    # those it let go of lately (withdrawn, declined) that are not its own again.
    days = _vacations().filter(
        mine
        | Q(volunteer=volunteer, status=Vacation.Status.CANCELLED, cancelled_at__gte=since)
        | (Q(pk__in=released_ids) & ~mine)
    )
    vacations = _with_contacts(days.order_by("date", "starts_at", "pk"))
    events = [
        _event(v, status=STATUS[v.status])
        if v.volunteer_id == volunteer.pk and v.status in STATUS
        else _event(v, status="CANCELLED")
        for v in vacations
    ]
    return _calendar(f"Relève — {volunteer.full_name}", events)


@never_cache
@require_GET
def site_feed(request, token: str):
    site = HostSite.objects.filter(calendar_token=token).first()
    if site is None:
        raise Http404
    since = timezone.now() - KEEP_CANCELLED
    vacations = (
        _vacations()
        .filter(site=site)
        .filter(
            Q(status__in=list(STATUS))
            | Q(status=Vacation.Status.CANCELLED, cancelled_at__gte=since)
        )
    )
    events = [
        _event(v, status=STATUS.get(v.status, "CANCELLED"), for_site=True)
        for v in _with_contacts(vacations)
    ]
    return _calendar(f"Relève — {site}", events)


def subscription_urls(request, volunteer: Volunteer) -> dict[str, str]:
    """A volunteer's feed as an address to paste (`calendar_url`, https in production) and as
    a `webcal://` link (`webcal_url`: same host and path) that calendar applications open to
    subscribe."""
    url = request.build_absolute_uri(
        reverse("volunteer_calendar", kwargs={"token": volunteer.calendar_token})
    )
    return {"calendar_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}
