from __future__ import annotations

from celery import shared_task

from reports.digest import send_weekly_digest
from reports.summary import send_monthly_summaries


@shared_task
def weekly_digest() -> int:
    """Thin wrapper: what each territory manager is told is gathered in `reports.digest`."""
    return send_weekly_digest()


@shared_task
def monthly_summary() -> int:
    """Thin wrapper: last month's summary per region (and France's) is in `reports.summary`."""
    return send_monthly_summaries()
