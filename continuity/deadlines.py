"""Deadlines counted in working time, in Paris time: Monday to Friday, French public holidays
excluded — with the local ones where the site is (Alsace-Moselle's Good Friday and 26 December,
the overseas departments' abolition of slavery), from the `holidays` package.

Callers pass the department of the site the deadline is for (`department_of(site)`); without
one, the national calendar applies.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")

# Departments whose public holidays differ from the national calendar, as `holidays` names them:
# Moselle (57) and Alsace (67, 68) share their local law; overseas departments by their code.
_ALSACE_MOSELLE = {"57": "57", "67": "6AE", "68": "6AE"}


def _subdivision(department: str | None) -> str | None:
    if not department:
        return None
    if department in _ALSACE_MOSELLE:
        return _ALSACE_MOSELLE[department]
    return department if department in holidays.France.subdivisions else None


@lru_cache(maxsize=32)
def _calendar(subdivision: str | None) -> holidays.HolidayBase:
    # Years are filled in on demand by the package (`expand`); one calendar per subdivision.
    return holidays.France(subdiv=subdivision)


def is_working_day(day: date, department: str | None = None) -> bool:
    """Monday to Friday, and not a public holiday where the site is."""
    if isinstance(day, datetime):
        day = day.date()
    return day.weekday() < 5 and day not in _calendar(_subdivision(department))


def department_of(site) -> str | None:
    """The department code of a host site (its territory's), for its deadlines."""
    if site is None or getattr(site, "territory_id", None) is None:
        return None
    return site.territory.department_id


def add_working_hours(start: datetime, hours: int, *, department: str | None = None) -> datetime:
    """`start` plus `hours` hours that fall on working days (a weekend or a public holiday
    doesn't count)."""

    def working(moment: datetime) -> bool:
        return is_working_day(moment.date(), department)

    moment = start.astimezone(PARIS)
    if not working(moment):  # a clock started on a day off starts on the next working day 00:00
        while not working(moment):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    remaining = timedelta(hours=hours)
    while remaining > timedelta(0):
        end_of_day = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
        step = min(remaining, end_of_day - moment)
        moment += step
        remaining -= step
        while remaining > timedelta(0) and not working(moment):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    return moment


def add_working_days(start: datetime, days: int, *, department: str | None = None) -> datetime:
    return add_working_hours(start, 24 * days, department=department)
