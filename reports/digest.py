"""The weekly digest (`weekly_digest`, Mondays at 08:00 Paris time): what waits for each
territory manager in its territories, and for each ARS manager in its region's (issue 11
§ 8: the same sections, over the region). Someone who is both gets one digest covering both.

A section is one function `(manager, today) -> Section | None` listed in `SECTIONS`: the
digest gathers them in order, and a new section is one more function in that list. A manager
with nothing waiting gets no digest that week. One digest per manager and ISO week: the dedupe
key names the week, so a second run (or a beat firing twice) writes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, User
from accounts.notifications import Message, notify_many
from accounts.roles import Role
from continuity.models import FollowUpTask
from sites.models import HostSite, Membership, Region, Territory
from vacations.models import Vacation
from volunteers.models import Period, Volunteer

ITEMS_SHOWN = 10  # per section; the section's link leads to the rest
OPEN_DAYS_AHEAD = timedelta(weeks=4)


@dataclass(frozen=True)
class Section:
    title: str  # lazy: read in the manager's language
    count: int
    items: list  # a line each (lazy too when it holds words)
    link: str  # the page that lists them all

    def as_context(self) -> dict[str, object]:
        return {
            "title": self.title,
            "count": self.count,
            "items": self.items[:ITEMS_SHOWN],
            "more": max(self.count - ITEMS_SHOWN, 0),
            "link": self.link,
        }


DIGEST_ROLES = (Role.TERRITORY_MANAGER, Role.ARS_MANAGER)


def _territories(manager: User):
    """The territories the digest covers: the manager's own, and every one of its regions."""
    memberships = Membership.objects.filter(user=manager)
    return Territory.objects.filter(
        Q(pk__in=memberships.filter(role=Role.TERRITORY_MANAGER).values("territory"))
        | Q(department__region__in=memberships.filter(role=Role.ARS_MANAGER).values("region"))
    )


def _scope_label(manager: User) -> str:
    """What the digest is about, in words: the manager's regions, then its territories
    outside them (a region's hundred territories are not listed one by one)."""
    regions = list(
        Region.objects.filter(
            memberships__user=manager, memberships__role=Role.ARS_MANAGER
        ).values_list("name", flat=True)
    )
    territories = (
        Territory.objects.filter(
            memberships__user=manager, memberships__role=Role.TERRITORY_MANAGER
        )
        .exclude(department__region__name__in=regions)
        .values_list("name", flat=True)
    )
    return ", ".join([*sorted(regions), *territories])


def open_days(manager: User, today: Date) -> Section | None:
    """Open days of the next four weeks that no doctor has taken."""
    days = (
        Vacation.objects.filter(
            status=Vacation.Status.OPEN,
            date__gte=today,
            date__lt=today + OPEN_DAYS_AHEAD,
            site__territory__in=_territories(manager),
        )
        .select_related("site")
        .order_by("date", "starts_at", "pk")
    )
    count = days.count()
    if not count:
        return None
    items = [
        format_lazy(
            "{} · {} ({})", day.date.strftime("%d/%m/%Y"), day.site.name, Period(day.period).label
        )
        for day in days[:ITEMS_SHOWN]
    ]
    return Section(
        _("Open days without a doctor in the next 4 weeks"), count, items, reverse("coverage")
    )


def volunteers_to_verify(manager: User, today: Date) -> Section | None:
    """Volunteers who chose the manager's territories and wait for their verification."""
    volunteers = (
        Volunteer.objects.managed_by(manager)
        .filter(status=Volunteer.Status.PENDING)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    count = volunteers.count()
    if not count:
        return None
    items = [f"{v.full_name} · RPPS {v.rpps}" for v in volunteers[:ITEMS_SHOWN]]
    return Section(
        _("Volunteers awaiting verification"),
        count,
        items,
        f"{reverse('volunteer_list')}?status={Volunteer.Status.PENDING}",
    )


def sheets_to_validate(manager: User, today: Date) -> Section | None:
    """Information sheets submitted, or changed since their publication."""
    sites = (
        HostSite.objects.filter(territory__in=_territories(manager))
        .to_validate()
        .order_by("name", "pk")
    )
    count = sites.count()
    if not count:
        return None
    items = [f"{site.name} · {site.city}" for site in sites[:ITEMS_SHOWN]]
    return Section(
        _("Information sheets awaiting validation"),
        count,
        items,
        f"{reverse('site_list')}?sheet=to_validate",
    )


def follow_up_tasks(manager: User, today: Date) -> Section | None:
    """Follow-up tasks of the manager's sites that are overdue or were escalated (no patient
    reference in an email: the kind, the site, the level and the deadline)."""
    now = timezone.now()
    tasks = (
        FollowUpTask.objects.active()
        .filter(site__territory__in=_territories(manager))
        .filter(Q(due_at__lt=now) | Q(escalation_level__gte=FollowUpTask.Level.TERRITORY))
        .select_related("site")
        .order_by("-escalation_level", "due_at", "pk")
    )
    count = tasks.count()
    if not count:
        return None
    items = [
        format_lazy(
            "{} · {} · {} · {}",
            FollowUpTask.Kind(task.kind).label,
            task.site.name,
            FollowUpTask.Level(task.escalation_level).label,
            timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M"),
        )
        for task in tasks[:ITEMS_SHOWN]
    ]
    return Section(
        _("Follow-up tasks overdue or escalated"), count, items, reverse("continuity_worklist")
    )


SECTIONS: list[Callable[[User, Date], Section | None]] = [
    open_days,
    volunteers_to_verify,
    sheets_to_validate,
    follow_up_tasks,
]


def gather(manager: User, today: Date) -> list[Section]:
    """The digest's sections for `manager`, in order, without the empty ones."""
    return [section for build in SECTIONS if (section := build(manager, today)) is not None]


@transaction.atomic
def send_weekly_digest(*, now: datetime | None = None) -> int:
    """Write this week's digests (delivery follows the commit); return how many were new."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    year, week, _weekday = today.isocalendar()
    key = f"digest:{year}-W{week:02d}"
    already = set(
        Notification.objects.filter(
            kind="weekly_digest", dedupe_key__startswith=f"{key}:"
        ).values_list("recipient", flat=True)
    )
    managers = (
        User.objects.filter(is_active=True, memberships__role__in=DIGEST_ROLES)
        .exclude(pk__in=already)
        .distinct()
        .order_by("pk")
    )
    messages = []
    for manager in managers:
        sections = gather(manager, today)
        if not sections:
            continue
        context = {
            "week": str(week),
            "territories": _scope_label(manager),
            "sections": [section.as_context() for section in sections],
            "link": reverse("home"),
        }
        messages.append(Message([manager], "weekly_digest", context, key))
    return len(notify_many(messages))
