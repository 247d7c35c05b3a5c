from __future__ import annotations

from celery import shared_task

from feedback.services import feedback_requests as _feedback_requests


@shared_task
def feedback_requests() -> int:
    """Thin wrapper: who is asked for feedback, and reminded once, is in `feedback.services`."""
    return _feedback_requests()
