"""Calls for volunteers (`call_for_volunteers`, daily): an open day nobody took is offered.

14 days ahead, to the bookable volunteers who said they are free that day (in that territory,
when they named territories); still open 7 days ahead, to every bookable volunteer who chose
the territory and has room left in that month's maximum. A volunteer is asked once per day
offered (the dedupe key names the day and the volunteer); who was asked stays visible in the
notifications of that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.notifications import Message, notify_many
from sites.models import HostSite
from vacations.models import Vacation
from vacations.selectors import available_for, days_taken_for
from volunteers.models import Period, Volunteer

FIRST_CALL = 14  # days ahead: those who declared themselves available
SECOND_CALL = 7  # days ahead: everyone who chose the territory and has quota left


def asked_for(vacation: Vacation) -> list[int]:
    """Users already asked to take `vacation` (for the site team and the managers)."""
    from accounts.models import Notification

    return list(
        Notification.objects.filter(
            kind="call_for_volunteers", context__vacation=str(vacation.pk)
        ).values_list("recipient", flat=True)
    )


@transaction.atomic
def call_for_volunteers(*, now: datetime | None = None) -> int:
    """Write today's calls (delivery follows the commit); return how many were new."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    messages: list[Message] = []
    days = (
        Vacation.objects.filter(
            status=Vacation.Status.OPEN,
            site__in=HostSite.objects.public(),
            date__in=[today + timedelta(days=FIRST_CALL), today + timedelta(days=SECOND_CALL)],
        )
        .select_related("site")
        .order_by("date", "pk")
    )
    for vacation in days:
        # Who is asked, and whether they have room left that month, in one query per day.
        volunteers = (
            Volunteer.objects.eligible(today=today)
            .select_related("user")
            .annotate(days_taken=days_taken_for(vacation))
            .filter(days_taken__lte=F("max_days_per_month") - vacation.weight)
        )
        if (vacation.date - today).days == FIRST_CALL:
            volunteers = volunteers.filter(available_for(vacation))
        else:
            volunteers = volunteers.filter(preferred_territories=vacation.site.territory_id)
        context = {
            "vacation": vacation.pk,
            "site": vacation.site.name,
            "city": vacation.site.city,
            "date": vacation.date.strftime("%d/%m/%Y"),
            "period": Period(vacation.period).label,  # lazy: in each volunteer's language
            "link": reverse("vacation_detail", args=[vacation.pk]),
        }
        messages.extend(
            Message(
                users=[volunteer.user],
                kind="call_for_volunteers",
                context=context,
                dedupe_key=f"call:{vacation.pk}:{volunteer.pk}",
            )
            for volunteer in volunteers
        )
    return len(notify_many(messages))
