from __future__ import annotations

import logging

from celery import shared_task

from accounts import notifications

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Beat's proof of life: a worker that logs this is receiving scheduled work."""
    logger.info("Relève heartbeat")
    return "ok"


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=notifications.MAX_ATTEMPTS,
)
def deliver_notification(pk: int) -> str:
    """Thin wrapper: the claim and the send live in `accounts.notifications.deliver`."""
    return notifications.deliver(pk)


@shared_task
def requeue_notifications() -> int:
    return notifications.requeue_stale()
