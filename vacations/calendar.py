"""Private iCal feeds: a volunteer's days, and a site's (the secret token is the credential)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from sites.models import HostSite, KeyContact
from vacations.models import PARIS, Period, Vacation, VacationRelease
from volunteers.models import Volunteer

# Calendar clients only remove an event they saw cancelled: keep cancelled ones this long.
KEEP_CANCELLED = timedelta(days=30)
STATUS = {
    Vacation.Status.REQUESTED: "TENTATIVE",
    Vacation.Status.BOOKED: "CONFIRMED",
    Vacation.Status.DONE: "CONFIRMED",
}
HOURS = {Period.AM: (time(8, 30), time(12, 30)), Period.PM: (time(13, 30), time(18, 30))}


def _vacations():
    contacts = KeyContact.objects.order_by("-priority", "position")
    return Vacation.objects.select_related("site__info_sheet", "volunteer__user").prefetch_related(
        Prefetch("site__info_sheet__contacts", queryset=contacts)
    )


def _event(vacation: Vacation, *, status: str, for_site: bool = False) -> Event:
    site = vacation.site
    event = Event()
    event.add("uid", f"vacation-{vacation.pk}@releve")
    event.add("dtstamp", timezone.now())
    event.add("sequence", int(vacation.updated_at.timestamp()) % 2_000_000_000)
    if vacation.period == Period.DAY:
        event.add("dtstart", vacation.date)
        event.add("dtend", vacation.date + timedelta(days=1))
    else:
        start, end = HOURS[vacation.period]
        event.add("dtstart", datetime.combine(vacation.date, start, tzinfo=PARIS))
        event.add("dtend", datetime.combine(vacation.date, end, tzinfo=PARIS))
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
    active = _vacations().filter(volunteer=volunteer, status__in=list(STATUS))
    cancelled = _vacations().filter(
        volunteer=volunteer, status=Vacation.Status.CANCELLED, cancelled_at__gte=since
    )
    released_ids = VacationRelease.objects.filter(volunteer=volunteer, at__gte=since).values(
        "vacation"
    )
    released = (
        _vacations()
        .filter(pk__in=released_ids)
        .exclude(Q(volunteer=volunteer) & Q(status__in=list(STATUS)))
    )
    events = [_event(v, status=STATUS[v.status]) for v in active]
    events += [_event(v, status="CANCELLED") for v in [*cancelled, *released]]
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
    events = [_event(v, status=STATUS.get(v.status, "CANCELLED"), for_site=True) for v in vacations]
    return _calendar(f"Relève — {site}", events)
