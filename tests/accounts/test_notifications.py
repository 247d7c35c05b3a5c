"""Durable notifications: a row per message, written with the caller's change, sent once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts import notifications
from accounts.models import Notification
from accounts.tasks import deliver_notification

CONTEXT = {"site": "MSP de Châteaumeillant", "date": "09/03/2027", "period": "Journée entière"}


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP down")


def notify(users, key="booked:1"):
    return notifications.notify(
        users=users, kind="vacation_booked", context=CONTEXT, dedupe_key=key
    )


def test_it_writes_one_message_per_recipient_once_and_sends_it_after_commit(
    user, volunteer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify([user, volunteer])
        again = notify([user, volunteer])

    assert len(first) == 2
    assert again == []
    assert Notification.objects.filter(status="sent").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([user.email, volunteer.email])
    assert "09/03/2027" in mail.outbox[0].subject


def test_a_rolled_back_change_leaves_no_message(user, django_capture_on_commit_callbacks):
    @transaction.atomic
    def failing_booking():
        notify([user])
        raise RuntimeError("the booking failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_booking()

    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_broker_outage_delays_the_message_but_loses_nothing(
    user, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Redis is down")

    monkeypatch.setattr(deliver_notification, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notify([user])
    queued = Notification.objects.get()
    monkeypatch.undo()

    soon = notifications.requeue_stale()
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        later = notifications.requeue_stale()
        again = notifications.requeue_stale()

    assert queued.status == "queued"
    assert (soon, later, again) == (0, 1, 0)
    assert Notification.objects.get().status == "sent"
    assert len(mail.outbox) == 1


def test_a_message_delivered_twice_is_sent_once(user):
    notify([user])  # not committed callbacks: nothing enqueued yet
    pk = Notification.objects.get().pk

    outcomes = [notifications.deliver(pk), notifications.deliver(pk)]

    assert outcomes == ["sent", "skipped"]
    assert len(mail.outbox) == 1


def test_an_smtp_failure_is_retried_then_marked_failed(user, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    notify([user])
    pk = Notification.objects.get().pk

    for _ in range(notifications.MAX_ATTEMPTS - 1):
        with pytest.raises(OSError, match="SMTP down"):
            notifications.deliver(pk)
        assert Notification.objects.get().status == "queued"
    final = notifications.deliver(pk)

    notification = Notification.objects.get()
    assert final == "failed"
    assert (notification.status, notification.attempts) == ("failed", notifications.MAX_ATTEMPTS)
    assert "SMTP down" in notification.last_error
    assert mail.outbox == []


@pytest.mark.parametrize(
    "kind",
    sorted(
        path.stem
        for path in (Path(__file__).resolve().parents[2] / "templates")
        .joinpath("notifications")
        .glob("*.txt")
    ),
)
def test_every_message_renders_in_french_and_in_english(kind):
    from django.utils import translation

    context = {**CONTEXT, "volunteer": "Dr Anne Bernard", "reason": "Fermeture", "days": "7",
               "address": "12 rue de la Poste, 18370 Châteaumeillant", "site_pk": "1"}  # fmt: skip
    rendered = {}
    for language in ("fr", "en"):
        with translation.override(language):
            rendered[language] = notifications.render_message(kind, context)

    for subject, body in rendered.values():
        assert subject
        assert body.strip()
        assert "{{" not in subject + body
        assert "%(" not in subject + body
    assert rendered["fr"] != rendered["en"]


def test_a_message_left_sending_by_a_dead_worker_is_sent_again_after_its_lease(user, settings):
    notify([user])
    pk = Notification.objects.get().pk
    killed_at = timezone.now()
    # What a worker killed in the middle of a delivery leaves: the claim, no email.
    Notification.objects.filter(pk=pk).update(status="sending", claimed_at=killed_at, attempts=1)

    within_lease = killed_at + settings.RELEVE_NOTIFICATION_LEASE - timedelta(seconds=1)
    after_lease = killed_at + settings.RELEVE_NOTIFICATION_LEASE + timedelta(seconds=1)
    redelivered_early = notifications.deliver(pk, now=within_lease)
    swept_early = notifications.requeue_stale(now=within_lease)
    with time_machine.travel(after_lease, tick=False):
        swept = notifications.requeue_stale()
        swept_again = notifications.requeue_stale()

    assert (redelivered_early, swept_early, swept, swept_again) == ("skipped", 0, 1, 0)
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1
