from __future__ import annotations

from celery import shared_task

from continuity import services


@shared_task
def overdue_exams() -> int:
    """Hourly: one chase task per exam still awaiting after its expected date."""
    return services.overdue_exams()


@shared_task
def escalate_tasks() -> int:
    """Every 15 minutes: overdue tasks go one level up; halfway reminders of questions."""
    return services.escalate_tasks()
