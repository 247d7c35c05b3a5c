"""The periodic jobs timed on the data set, each in a transaction rolled back afterwards (the
data set stays as generated), and the check that contended booking double-booked nothing."""

from __future__ import annotations

import time as clock
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from continuity import services as continuity
from continuity.models import FollowUpTask, PendingExam
from vacations.models import PARIS, Vacation
from vacations.reminders import REMIND_DAYS_BEFORE, send_vacation_reminders


def _timed(function) -> dict:
    with transaction.atomic():
        callbacks = len(connection.run_on_commit)
        started = clock.perf_counter()
        result = function()
        seconds = clock.perf_counter() - started
        del connection.run_on_commit[callbacks:]  # nothing is enqueued
        transaction.set_rollback(True)
    return {"seconds": round(seconds, 2), "result": result}


def run() -> dict:
    now = timezone.now()
    # The busiest booked date ahead: its reminders are sent seven days before, at 07:00.
    busiest = (
        Vacation.objects.filter(status=Vacation.Status.BOOKED, date__gt=timezone.localdate())
        .values("date")
        .annotate(n=Count("pk"))
        .order_by("-n", "date")
        .first()
    )
    jobs = {}
    if busiest:
        day = busiest["date"] - timedelta(days=REMIND_DAYS_BEFORE[0])
        at = datetime.combine(day, time(7), tzinfo=PARIS)
        # Timed in two parts: the first run recalls every request already waiting 48 h (the
        # generated ones are all older: a backlog only a first run ever meets), then the next
        # day's run — that day's reminders and the requests crossing 48 h that day.
        with transaction.atomic():
            callbacks = len(connection.run_on_commit)
            started = clock.perf_counter()
            backlog = send_vacation_reminders(now=at - timedelta(days=1))
            first = clock.perf_counter()
            result = send_vacation_reminders(now=at)
            seconds = clock.perf_counter() - first
            del connection.run_on_commit[callbacks:]  # nothing is enqueued
            transaction.set_rollback(True)
        jobs["vacation_reminders_first_run"] = {
            "seconds": round(first - started, 2),
            "result": backlog,
            "run_on": (day - timedelta(days=1)).isoformat(),
        }
        jobs["vacation_reminders"] = {
            "seconds": round(seconds, 2),
            "result": result,
            "booked_days": busiest["n"],
            "date": busiest["date"].isoformat(),
            "run_on": day.isoformat(),
        }
    backlog = FollowUpTask.objects.overdue(now=now).filter(escalation_level__lt=2).count()
    jobs["escalate_tasks"] = {**_timed(lambda: continuity.escalate_tasks(now=now)),
                              "backlog": backlog}  # fmt: skip
    jobs["escalate_tasks"]["per_s"] = round(
        backlog / max(jobs["escalate_tasks"]["seconds"], 0.001), 1
    )
    awaiting = PendingExam.objects.overdue().count()
    jobs["overdue_exams"] = {**_timed(lambda: continuity.overdue_exams(now=now)),
                             "overdue": awaiting}  # fmt: skip
    return jobs


def double_bookings(site: int, year: int, month: int) -> dict:
    """After the contention: per volunteer, no two days on one date and never over its
    maximum in the month; per site and date, never more days than rooms."""
    taken = Vacation.objects.filter(status__in=Vacation.TAKEN_STATUSES)
    same_date = taken.values("volunteer", "date").annotate(n=Count("pk")).filter(n__gt=1).count()
    month_days = (
        taken.filter(date__year=year, date__month=month)
        .values("volunteer")
        .annotate(n=Count("pk"), max=Max("volunteer__max_days_per_month"))
    )
    over_quota = sum(1 for row in month_days if row["n"] > row["max"])
    rooms = (
        Vacation.objects.filter(site=site, status__in=Vacation.ROOM_STATUSES)
        .values("date")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return {"same_date": same_date, "over_quota": over_quota, "room_overbooked": rooms}
