"""What the home page's sections share: tiles, short lists, links, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import formats

from continuity.models import FollowUpTask
from sites.models import HostSite
from vacations.models import PARIS, Vacation

SHORT_LIST = 5  # items per list: the tile's link leads to the rest
COVERAGE_HORIZON = timedelta(days=14)
NEXT_WEEK = timedelta(days=7)
RECENT_HANDOVERS = timedelta(days=30)  # older unread ones are history, not news
# A month's need spread over the days: a 14-day window needs 14 / 30.4375 of a month's days.
AVERAGE_MONTH_DAYS = Decimal("30.4375")
SCOPE_NAMES_SHOWN = 5

Status = Vacation.Status
Task = FollowUpTask


@dataclass(frozen=True)
class Tile:
    """A count and the list it counts."""

    key: str
    label: str
    count: int | Decimal
    url: str
    detail: str = ""
    alert: bool = False  # something waits for the user: the count shows in red


@dataclass(frozen=True)
class Row:
    url: str
    obj: object


@dataclass(frozen=True)
class ShortList:
    """The most urgent items of a list (`template` renders one `row.obj`)."""

    key: str
    title: str
    rows: list[Row]
    count: int
    url: str  # the whole list
    empty: str  # said when there is nothing
    template: str

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class Section:
    role: str  # a role code, or "pilot" for the managers' section
    title: str
    scope: list[Link] = field(default_factory=list)  # the places it covers
    scope_more: int = 0
    tiles: list[Tile] = field(default_factory=list)
    lists: list[ShortList] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # other useful doors
    notices: list[Link] = field(default_factory=list)  # what must be done before anything


def rows(queryset, url) -> list[Row]:
    return [Row(url(obj), obj) for obj in queryset[:SHORT_LIST]]


def template(name: str) -> str:
    return f"reports/home/items/{name}.html"


def end_of(day: Date) -> datetime:
    """The first instant after `day`, in Paris."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=PARIS)


def sites_as(user, *roles: str):
    """The sites where `user` holds one of `roles` (secretary, course nurse...), with the
    secondary practices their pôle mère runs (`HostSite.objects.staffed_by`)."""
    return HostSite.objects.staffed_by(user, *roles)


def scope_of_sites(sites: list[HostSite], url) -> tuple[list[Link], int]:
    shown = sites[:SCOPE_NAMES_SHOWN]
    return [Link(site.name, url(site)) for site in shown], len(sites) - len(shown)


def day_url(vacation: Vacation) -> str:
    return reverse("vacation_detail", args=[vacation.pk])


def closure_url(vacation: Vacation) -> str:
    return reverse("continuity_day_closure", args=[vacation.pk])


def task_url(task: FollowUpTask) -> str:
    return reverse("continuity_task", args=[task.pk])


def number(value, places: int) -> str:
    return formats.number_format(value, decimal_pos=places, use_l10n=True)
