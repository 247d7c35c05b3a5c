from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from celery import shared_task

from accounts import delivery

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
    max_retries=delivery.MAX_ATTEMPTS,
)
def deliver_notification(pk: int) -> str:
    """Thin wrapper: the claim and the send live in `accounts.delivery.deliver`."""
    return delivery.deliver(pk)


@shared_task(acks_late=True)
def deliver_notifications(pks: list[int]) -> dict[str, int]:
    """A batch written together (a reminder run): each message is claimed and sent on its own;
    one the mail server refuses is retried alone, with `deliver_notification`'s back-off."""
    outcomes: Counter[str] = Counter()
    for pk in pks:
        try:
            outcomes[delivery.deliver(pk)] += 1
        except OSError:
            deliver_notification.apply_async((pk,), countdown=60)
            outcomes["retried"] += 1
    return dict(outcomes)


@shared_task
def requeue_notifications() -> int:
    return requeue_stale()


# --- Handing messages to the broker (`accounts.notifications` calls these) -------------------

# Messages per broker message: one publish costs about a millisecond, a reminder run writes
# thousands of messages.
ENQUEUE_BATCH = 100


def enqueue_many(pks: Iterable[int], *, queue: str | None = None) -> int:
    """Hand messages to the broker, by batches; if it is down, the sweeper will try again.

    Returns how many were handed over (the rest stay queued in the database).
    """
    pks = list(pks)
    options = {"queue": queue} if queue else {}
    handed = 0
    try:
        for start in range(0, len(pks), ENQUEUE_BATCH):
            batch = pks[start : start + ENQUEUE_BATCH]
            if len(batch) == 1:
                deliver_notification.apply_async((batch[0],), **options)
            else:
                deliver_notifications.apply_async((batch,), **options)
            handed += len(batch)
    except Exception:  # the broker is out of our hands: never fail the user's request
        logger.warning(
            "%s notification(s) stay queued: broker unreachable", len(pks) - handed, exc_info=True
        )
    return handed


def requeue_stale(*, now=None, limit: int = 500) -> int:
    """Enqueue again what a worker should have sent by now: messages still queued
    `STALE_AFTER` after they were written or last tried (a lost broker message), and messages
    whose worker died while sending (`sending` past the lease, see `delivery.deliver`)."""
    ids = delivery.stale_ids(now=now, limit=limit)
    enqueue_many(ids)
    return len(ids)
