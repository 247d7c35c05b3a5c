"""Deadlines counted in working time (Monday to Friday), in Paris time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def _is_working_day(moment: datetime) -> bool:
    return moment.weekday() < 5


def add_working_hours(start: datetime, hours: int) -> datetime:
    """`start` plus `hours` hours that fall on working days (a weekend doesn't count)."""
    moment = start.astimezone(PARIS)
    if not _is_working_day(moment):  # a clock started on a weekend starts on Monday 00:00
        while not _is_working_day(moment):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    remaining = timedelta(hours=hours)
    while remaining > timedelta(0):
        end_of_day = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
        step = min(remaining, end_of_day - moment)
        moment += step
        remaining -= step
        while remaining > timedelta(0) and not _is_working_day(moment):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    return moment


def add_working_days(start: datetime, days: int) -> datetime:
    return add_working_hours(start, 24 * days)
