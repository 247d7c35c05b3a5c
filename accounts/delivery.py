"""Delivering one notification: claim its row, build its email in the recipient's language,
send, record. The Celery tasks (`accounts.tasks`) call this module; `accounts.notifications`
writes the rows and hands them to those tasks, so nothing here imports either of them.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Notification, NotificationPreference

MAX_ATTEMPTS = 5
# A message still queued this long after it was written (or last tried) was lost on the way to
# the worker.
STALE_AFTER = timedelta(minutes=5)

# Kinds that are emailed whatever the recipient's preferences say: someone is waiting for an
# answer about a patient. The continuity app writes them (an overdue task escalated to a
# manager; a site team's question to the prescribing volunteer, who committed to answer, and
# its reminder halfway through the committed delay).
MANDATORY_KINDS = frozenset({"task_escalated", "contact_request", "contact_reminder"})


def language_of(user) -> str:
    language = getattr(user, "language", "")
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def absolute_url(link: str) -> str:
    return link if "://" in link else f"{settings.SITE_URL}{link}"


def layout_context(*, subject: str, body: str, link: str) -> dict[str, object]:
    return {
        "subject": subject,
        "body": body,
        "link": absolute_url(link) if link else "",
        "language": translation.get_language(),
        "site_url": settings.SITE_URL,
        "preferences_url": absolute_url(reverse("notification_preferences")),
    }


def email_wanted(user, kind: str) -> bool:
    if kind in MANDATORY_KINDS:
        return True
    return not NotificationPreference.objects.filter(user=user, kind=kind, email=False).exists()


def build_email(notification: Notification) -> EmailMultiAlternatives:
    """The email of a notification, in its recipient's language: the stored text with a
    footer, and its HTML (stored, or the shared layout around the text)."""
    user = notification.recipient
    with translation.override(language_of(user)):
        footer = gettext("Your notifications and email preferences: %(url)s") % {
            "url": absolute_url(reverse("notification_preferences"))
        }
        html = notification.html or render_to_string(
            "emails/notification.html",
            layout_context(
                subject=notification.subject, body=notification.body, link=notification.link
            ),
        )
    email = EmailMultiAlternatives(
        notification.subject, f"{notification.body}\n-- \nRelève · {footer}\n", None, [user.email]
    )
    email.attach_alternative(html, "text/html")
    return email


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
    if not email_wanted(notification.recipient, notification.kind):
        Notification.objects.filter(pk=pk).update(
            status=Notification.Status.SENT, channel=Notification.Channel.INAPP, sent_at=now
        )
        return "inbox"
    try:
        build_email(notification).send()
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


def stale_ids(*, now=None, limit: int = 500) -> list[int]:
    """What a worker should have sent by now: messages still queued
    `STALE_AFTER` after they were written or last tried (a lost broker message), and messages
    whose worker died while sending (`sending` past the lease, see `deliver`)."""
    now = now or timezone.now()
    lost = Q(status=Notification.Status.QUEUED, last_touched__lt=now - STALE_AFTER)
    abandoned = Q(
        status=Notification.Status.SENDING,
        claimed_at__lt=now - settings.RELEVE_NOTIFICATION_LEASE,
    )
    return list(
        Notification.objects.annotate(last_touched=Coalesce("claimed_at", "created_at"))
        .filter(lost | abandoned)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
