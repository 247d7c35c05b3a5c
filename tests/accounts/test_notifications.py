"""Durable notifications: a row per message, written with the caller's change, sent once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from kombu.exceptions import OperationalError

from accounts import notifications
from accounts.models import Notification, NotificationPreference
from accounts.tasks import deliver_notification, deliver_notifications
from tests.factories import UserFactory

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

    monkeypatch.setattr(deliver_notification, "apply_async", broker_down)
    monkeypatch.setattr(deliver_notifications, "apply_async", broker_down)
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


KINDS = sorted(
    path.stem
    for path in (Path(__file__).resolve().parents[2] / "templates" / "notifications").glob("*.txt")
)
# Every variable a template uses, so that no kind renders a blank.
EVERY_VARIABLE = {
    **CONTEXT, "volunteer": "Dr Anne Bernard", "reason": "Fermeture", "days": "7",
    "address": "12 rue de la Poste, 18370 Châteaumeillant", "site_pk": "1", "city": "Bourges",
    "month": "02/2027", "territory": "CC Berry Grand Sud", "amount": "400.00", "week": "10",
    "territories": "CC Berry Grand Sud", "task_kind": "Analyser un résultat",
    "sections": [{"title": "Journées", "count": 1, "items": ["09/03/2027"], "more": 0,
                  "link": "/couverture/"}],
    "link": "/jours/1/",
    "url": "/jours/1/",
    "comment": "Précisez l’hébergement.", "changes": "1",
    "month_start": date(2027, 2, 1), "place": "Centre-Val de Loire",
    "coverage": {"days_needed": Decimal("7"), "days_booked": Decimal("1.5"),
                 "days_done": Decimal("2.5"), "fill_rate": Decimal("57.1")},
    "continuity": {"exams_overdue": 1, "tasks_overdue": 2, "median_hours": Decimal("10.0")},
    "indemnities": {"days": Decimal("2.5"), "amount": Decimal("500.00"),
                    "statements": {"draft": 1, "validated": 1, "paid": 0}},
    "dashboards": {"coverage": "/pilotage/couverture/?region=24",
                   "continuity": "/pilotage/suivi/?region=24",
                   "indemnities": "/pilotage/indemnites/?region=24"},
    "exports": {"coverage": "/api/v1/reports/coverage/?region=24&format=csv",
                "continuity": "/api/v1/reports/continuity/?region=24&format=csv",
                "indemnities": "/api/v1/reports/indemnities/?region=24&format=csv"},
}  # fmt: skip


def test_kinds_are_the_templates_of_the_notifications_folder(db):
    assert notifications.notification_kinds() == KINDS
    assert {"vacation_booked", "vacation_reminder", "weekly_digest"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_message_is_emailed_in_the_recipients_language_as_text_and_html(kind, settings, db):
    """New kinds are covered by adding their .txt: the list comes from the templates folder."""
    settings.SITE_URL = "https://releve.example.fr"
    emails = {}
    for language in ("fr", "en"):
        user = UserFactory(language=language)
        [notification] = notifications.notify(
            users=[user], kind=kind, context=EVERY_VARIABLE, dedupe_key=f"{kind}:{language}"
        )
        assert notifications.deliver(notification.pk) == "sent"
        emails[language] = mail.outbox[-1]

    for language, email in emails.items():
        html, mimetype = email.alternatives[0]
        assert mimetype == "text/html"
        text = email.subject + email.body + html
        assert email.subject
        assert email.body.strip()
        assert "{{" not in text
        assert "%(" not in text
        assert "{%" not in text
        assert f'<html lang="{language}">' in html
        assert escape(email.subject) in html
        # The link back to the page, absolute, in the text and behind the HTML's button.
        assert "https://releve.example.fr/jours/1/" in email.body
        assert 'href="https://releve.example.fr/jours/1/"' in html
        assert "https://releve.example.fr/notifications/preferences/" in email.body
    assert emails["fr"].subject != emails["en"].subject
    assert emails["fr"].body != emails["en"].body
    assert "Vos notifications" in emails["fr"].body
    assert "Your notifications" in emails["en"].body
    assert "Ouvrir dans Relève" in emails["fr"].alternatives[0][0]
    assert "Open in Relève" in emails["en"].alternatives[0][0]


def test_each_recipient_reads_the_message_in_its_own_language(
    db, django_capture_on_commit_callbacks
):
    from volunteers.models import Period

    french, english = UserFactory(), UserFactory(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            users=[french, english],
            kind="vacation_booked",
            context={**CONTEXT, "period": Period.AM.label, "link": "/jours/3/"},
            dedupe_key="booked:3",
        )

    rows = {n.recipient: n for n in Notification.objects.all()}
    assert rows[french].subject == "Journée réservée : MSP de Châteaumeillant, 09/03/2027"
    assert "(matin)" in rows[french].body.lower()
    assert rows[english].subject == "Day booked: MSP de Châteaumeillant, 09/03/2027"
    assert "(morning)" in rows[english].body.lower()
    assert rows[english].link == "/jours/3/"
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent[english.email].subject == rows[english].subject
    assert '<html lang="en">' in sent[english.email].alternatives[0][0]


def test_a_kind_turned_off_by_email_still_reaches_the_inbox(
    user, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=user, kind="vacation_booked", email=False)

    with django_capture_on_commit_callbacks(execute=True):
        notify([user])
        notify([user], key="booked:2")

    assert mail.outbox == []
    assert list(Notification.objects.values_list("status", "channel", "read_at")) == [
        ("sent", "inapp", None),
        ("sent", "inapp", None),
    ]


def test_escalations_and_contact_requests_cannot_be_turned_off(user):
    for kind in ("task_escalated", "contact_request", "vacation_booked"):
        NotificationPreference.objects.create(user=user, kind=kind, email=False)

    assert {"task_escalated", "contact_request"} <= notifications.MANDATORY_KINDS
    assert notifications.email_wanted(user, "task_escalated")
    assert notifications.email_wanted(user, "contact_request")
    assert not notifications.email_wanted(user, "vacation_booked")


def test_a_kind_with_its_own_html_template_keeps_it(user):
    [digest] = notifications.notify(
        users=[user], kind="weekly_digest", context=EVERY_VARIABLE, dedupe_key="digest"
    )

    notifications.deliver(digest.pk)

    html = mail.outbox[0].alternatives[0][0]
    assert digest.html
    assert html == digest.html
    assert "<h2" in html
    assert "Journées" in html


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


def test_a_batch_is_written_in_constant_queries_and_each_message_sent_once(
    db, django_assert_num_queries, django_capture_on_commit_callbacks
):
    users = UserFactory.create_batch(30)
    messages = [
        notifications.Message([user], "vacation_booked", CONTEXT, f"batch:{user.pk}")
        for user in users
    ]

    # existing keys, then savepoint, insert, release
    with django_assert_num_queries(4):
        written = notifications.notify_many(messages[:10])
    with django_assert_num_queries(4), django_capture_on_commit_callbacks() as callbacks:
        written += notifications.notify_many(messages)
    for callback in callbacks:
        callback()

    assert len(written) == 30
    assert Notification.objects.filter(status="sent").count() == 20
    assert len(mail.outbox) == 20
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users[10:])


def test_two_writers_racing_on_a_key_write_each_message_once(user):
    taken = notifications.notify(users=[user], kind="vacation_booked", context=CONTEXT,
                                 dedupe_key="race")  # fmt: skip
    rows = [
        Notification(recipient=user, kind="vacation_booked", subject="s", body="b",
                     dedupe_key=key)
        for key in (taken[0].dedupe_key, "other")
    ]  # fmt: skip

    # The first key was written by another transaction after this one looked.
    written = notifications._insert(rows)

    assert [n.dedupe_key for n in written] == ["other"]
    assert Notification.objects.count() == 2


def test_url_is_the_links_other_name(user, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://releve.example.fr"
    context = {**CONTEXT, "url": "https://releve.example.fr/suivi/taches/4/"}

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notifications.notify(
            users=[user], kind="vacation_booked", context=context, dedupe_key="url"
        )

    assert notification.link == "https://releve.example.fr/suivi/taches/4/"
    assert 'href="https://releve.example.fr/suivi/taches/4/"' in mail.outbox[0].alternatives[0][0]
