"""Reminders derived from the state of the days (`vacation_reminders`, daily at 07:00).

7 days and 1 day before a booked day, the volunteer and the site's secretaries are reminded;
a request unanswered for 48 hours is recalled to the secretaries, once, while its day is ahead.
Each message's dedupe key names the booking it is about, so a second run sends nothing more, a
withdrawn or cancelled day gets nothing, and a day booked again gets its reminders again.

A run writes all its messages at once (`notify_many`): thousands of booked days on one date
cost a few queries and one bulk insert, not a round trip per message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy

from accounts.notifications import Message, notify_many
from accounts.roles import Role
from sites.models import KeyContact, Membership
from vacations.models import Vacation, usual_arrival
from volunteers.models import Period

REMIND_DAYS_BEFORE = (7, 1)
REQUEST_WAITING = timedelta(hours=48)


def _secretaries():
    return Prefetch(
        "site__memberships",
        queryset=Membership.objects.filter(role=Role.SECRETARY).select_related("user"),
        to_attr="secretaries",
    )


def _context(vacation: Vacation) -> dict[str, object]:
    site = vacation.site
    return {
        "site": site.name,
        "address": site.full_address,
        "date": vacation.date.strftime("%d/%m/%Y"),
        "period": Period(vacation.period).label,  # lazy: in each recipient's language
        "volunteer": vacation.volunteer.full_name,
        "site_pk": str(site.pk),
        "link": reverse("vacation_detail", args=[vacation.pk]),
    }


def _arrival(vacation: Vacation) -> str:
    preparation = getattr(vacation, "preparation", None)
    arrival = preparation.arrival() if preparation else usual_arrival(vacation.period)
    return arrival.strftime("%H:%M")


def _volunteer_context(vacation: Vacation) -> dict[str, object]:
    """What the volunteer needs to come: when, whom to call, where to sleep, the sheet as a
    PDF, and where to read the latest handovers (a link: no patient data in an email)."""
    sheet = getattr(vacation.site, "info_sheet", None)
    contacts = list(sheet.contacts.all()) if sheet else []
    return {
        "arrival": _arrival(vacation),
        # Lazy: the service's name in each recipient's language.
        "contacts": [
            format_lazy(
                "{} ({}) : {}",
                contact.name,
                KeyContact.Service(contact.service).label,
                contact.phone,
            )
            for contact in contacts
        ],
        "accommodation": sheet.accommodation if sheet else "",
        "pdf": reverse("sheet_pdf", args=[vacation.site_id]),
        "handovers": f"{reverse('continuity_handovers')}?site={vacation.site_id}",
    }


@transaction.atomic
def send_vacation_reminders(*, now: datetime | None = None) -> int:
    """Write today's reminders (delivery follows the commit); return how many were new."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    messages: list[Message] = []
    days = (
        Vacation.objects.filter(
            status=Vacation.Status.BOOKED,
            date__in=[today + timedelta(days=n) for n in REMIND_DAYS_BEFORE],
        )
        .select_related("site__info_sheet", "volunteer__user", "preparation")
        .prefetch_related(_secretaries(), "site__info_sheet__contacts")
    )
    for vacation in days:
        ahead = (vacation.date - today).days
        booking = f"{vacation.pk}:{vacation.booked_at:%Y%m%d%H%M%S}:{ahead}"
        context = {**_context(vacation), "days": str(ahead), "arrival": _arrival(vacation)}
        messages.append(
            Message(
                users=[vacation.volunteer.user],
                kind="vacation_reminder",
                context={**context, **_volunteer_context(vacation)},
                dedupe_key=f"reminder:{booking}",
            )
        )
        messages.append(
            Message(
                users=[m.user for m in vacation.site.secretaries],
                kind="vacation_reminder_site",
                context=context,
                dedupe_key=f"reminder-site:{booking}",
            )
        )
    # Only days still ahead: a request for a day gone by is answered by nobody any more (the
    # dedupe key reminds each request once).
    waiting = (
        Vacation.objects.filter(
            status=Vacation.Status.REQUESTED,
            requested_at__lte=now - REQUEST_WAITING,
            date__gte=today,
        )
        .select_related("site", "volunteer__user")
        .prefetch_related(_secretaries())
    )
    messages.extend(
        Message(
            users=[m.user for m in vacation.site.secretaries],
            kind="request_waiting",
            context=_context(vacation),
            dedupe_key=f"request-waiting:{vacation.pk}:{vacation.requested_at:%Y%m%d%H%M%S}",
        )
        for vacation in waiting
    )
    return len(notify_many(messages))
