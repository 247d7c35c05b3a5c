"""The one entry point for telling people something: `notify(...)`.

`notify` writes one `Notification` row per recipient inside the caller's transaction (a
rolled-back booking leaves none) and asks a Celery worker to deliver it once the transaction
commits. The row is the durable part: if the broker is down, the request still succeeds and the
sweeper (`requeue_notifications`) enqueues the message again later; delivery claims the row, so
a message queued twice is still sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A message still queued this long after it was written (or last tried) was lost on the way to
# the worker.
STALE_AFTER = timedelta(minutes=5)


def render_message(kind: str, context: Mapping[str, object]) -> tuple[str, str]:
    """Subject (first line) and body of `templates/notifications/<kind>.txt`."""
    text = render_to_string(f"notifications/{kind}.txt", {**context, "site_url": settings.SITE_URL})
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def notify(
    *, users: Iterable, kind: str, context: Mapping[str, object], dedupe_key: str
) -> list[Notification]:
    """Write a message for each active recipient (once per `dedupe_key`) and enqueue it."""
    recipients = {user.pk: user for user in users if user.email and user.is_active}
    written = []
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = render_message(kind, context)
    for user in recipients.values():
        notification, created = Notification.objects.get_or_create(
            dedupe_key=f"{dedupe_key}:{user.pk}"[:255],
            defaults={
                "recipient": user, "kind": kind, "subject": subject[:255], "body": body,
                "context": {key: str(value) for key, value in context.items()},
            },
        )  # fmt: skip
        if created:
            written.append(notification)
    for notification in written:
        transaction.on_commit(lambda pk=notification.pk: enqueue(pk))
    return written


def enqueue(pk: int) -> None:
    """Hand a message to the broker; if it is down, the sweeper will try again."""
    from accounts.tasks import deliver_notification

    try:
        deliver_notification.delay(pk)
    except Exception:  # the broker is out of our hands: never fail the user's request
        logger.warning("notification %s stays queued: broker unreachable", pk, exc_info=True)


def deliver(pk: int, *, now=None) -> str:
    """Send a message once: claim it with a conditional UPDATE, send, record.

    Two workers given the same id (a re-queued or redelivered message) cannot both claim it:
    the UPDATE touches one row for one of them only.

    A worker killed while sending leaves its row `sending`. That claim is a lease: after
    `RELEVE_NOTIFICATION_LEASE` the row may be claimed again (by the broker's redelivery of the
    task, or by the sweeper's). What "once" means, then: a message is never lost, and it is
    never sent twice by workers that are alive — the lease is longer than any send can last
    (`EMAIL_TIMEOUT` bounds each SMTP step). The one window left is a worker killed after the
    mail server accepted the message and before the row says `sent`: nobody can tell that
    worker from one killed before sending, and we choose to send again rather than lose a
    message (at least once, in that window only).
    """
    now = now or timezone.now()
    claimable = Q(status=Notification.Status.QUEUED) | Q(
        status=Notification.Status.SENDING,
        claimed_at__lt=now - settings.RELEVE_NOTIFICATION_LEASE,
    )
    claimed = (
        Notification.objects.filter(claimable, pk=pk)
        .update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )  # fmt: skip
    if claimed != 1:
        return "skipped"
    notification = Notification.objects.select_related("recipient").get(pk=pk)
    try:
        send_mail(notification.subject, notification.body, None, [notification.recipient.email])
    except OSError as exc:  # SMTP down or refused: try again later, then give up visibly
        status = (
            Notification.Status.FAILED
            if notification.attempts >= MAX_ATTEMPTS
            else Notification.Status.QUEUED
        )
        Notification.objects.filter(pk=pk).update(status=status, last_error=str(exc)[:2000])
        if status == Notification.Status.QUEUED:
            raise
        return "failed"
    Notification.objects.filter(pk=pk).update(status=Notification.Status.SENT, sent_at=now)
    return "sent"


def requeue_stale(*, now=None, limit: int = 500) -> int:
    """Enqueue again what a worker should have sent by now: messages still queued
    `STALE_AFTER` after they were written or last tried (a lost broker message), and messages
    whose worker died while sending (`sending` past the lease, see `deliver`)."""
    now = now or timezone.now()
    lost = Q(status=Notification.Status.QUEUED, last_touched__lt=now - STALE_AFTER)
    abandoned = Q(
        status=Notification.Status.SENDING,
        claimed_at__lt=now - settings.RELEVE_NOTIFICATION_LEASE,
    )
    ids = list(
        Notification.objects.annotate(last_touched=Coalesce("claimed_at", "created_at"))
        .filter(lost | abandoned)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        enqueue(pk)
    return len(ids)
