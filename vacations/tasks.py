from __future__ import annotations

from celery import shared_task

from vacations import calls, monthly
from vacations.reminders import send_vacation_reminders


@shared_task
def vacation_reminders() -> int:
    """Thin wrapper: what is due is derived from the days' state in `vacations.reminders`."""
    return send_vacation_reminders()


@shared_task
def call_for_volunteers() -> int:
    """Thin wrapper: which days to offer, and to whom, is in `vacations.calls`."""
    return calls.call_for_volunteers()


@shared_task
def monthly_statements() -> int:
    """Thin wrapper: the statements and the managers' summaries are in `vacations.monthly`."""
    return monthly.send_monthly_statements()
