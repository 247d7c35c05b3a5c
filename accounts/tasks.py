from __future__ import annotations

import logging
from collections import Counter

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


@shared_task(acks_late=True)
def deliver_notifications(pks: list[int]) -> dict[str, int]:
    """A batch written together (a reminder run): each message is claimed and sent on its own;
    one the mail server refuses is retried alone, with `deliver_notification`'s back-off."""
    outcomes: Counter[str] = Counter()
    for pk in pks:
        try:
            outcomes[notifications.deliver(pk)] += 1
        except OSError:
            deliver_notification.apply_async((pk,), countdown=60)
            outcomes["retried"] += 1
    return dict(outcomes)


@shared_task
def requeue_notifications() -> int:
    return notifications.requeue_stale()
