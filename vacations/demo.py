"""The demo world's days (`manage.py seed_demo`): done days over the last two months, and
open, requested and booked days over the next two, at the published sites."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from sites.models import HostSite
from vacations import services
from vacations.models import PARIS, Vacation
from volunteers.models import Volunteer


def _weekday_on_or_after(day: Date, weekday: int) -> Date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _at(day: Date) -> datetime:
    return datetime.combine(day, time(18, 0), tzinfo=PARIS)


@transaction.atomic
def seed(*, today: Date | None = None, close_day=None) -> int:
    """Create the days once: a demo world that already has days is left alone.

    `close_day(vacation, consultations=, by=, now=)` closes each past day: a day is done only once
    its follow-up is recorded, which is continuity's business (`continuity.demo.close_day`).
    """
    today = today or timezone.localdate()
    sites = list(HostSite.objects.public().order_by("pk"))
    if not sites or Vacation.objects.filter(site__in=sites).exists():
        return 0
    staff = User.objects.get(email="secretariat@demo.releve.fr")
    martin = Volunteer.objects.get(user__email="dr.martin@demo.releve.fr")
    bernard = Volunteer.objects.get(user__email="dr.bernard@demo.releve.fr")
    month_start = today.replace(day=1)
    # Past: two months ago and last month, each volunteer within the monthly maximum.
    past = [
        (month_start - timedelta(days=45), "day", martin, 21),
        (month_start - timedelta(days=40), "am", bernard, 9),
        (month_start - timedelta(days=38), "day", bernard, 18),
        (month_start - timedelta(days=20), "day", martin, 23),
        (month_start - timedelta(days=13), "pm", martin, 8),
        (month_start - timedelta(days=12), "day", bernard, 20),
    ]
    count = 0
    for index, (day, period, volunteer, consultations) in enumerate(past):
        day = _weekday_on_or_after(day, 1 + index % 3)  # Tuesdays to Thursdays
        site = sites[index % len(sites)]
        vacation = services.vacation_open(site=site, date=day, period=period, by=staff, today=day)
        services.vacation_book(
            vacation=vacation, volunteer=volunteer, by=staff, now=_at(day) - timedelta(days=10)
        )
        if close_day is not None:
            close_day(vacation, consultations=consultations, by=staff, now=_at(day))
        else:
            services.vacation_complete(
                vacation=vacation, by=staff, consultations_count=consultations, now=_at(day)
            )
        count += 1
    # Future: every Tuesday and Thursday of the next two months opens at each site in turn.
    first = _weekday_on_or_after(today + timedelta(days=3), 1)
    future = []
    for week in range(8):
        for offset, period in ((0, "day"), (2, "am")):
            day = first + timedelta(days=7 * week + offset)
            site = sites[(week + offset) % len(sites)]
            future.append(
                services.vacation_open(site=site, date=day, period=period, by=staff, today=today)
            )
    services.vacation_book(vacation=future[0], volunteer=martin, by=staff)
    services.vacation_request(vacation=future[3], volunteer=bernard)
    services.vacation_book(vacation=future[5], volunteer=bernard, by=staff)
    services.vacation_request(vacation=future[9], volunteer=martin)
    return count + len(future)
