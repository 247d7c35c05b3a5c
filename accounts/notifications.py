"""The one entry point for telling people something: `notify(...)`.

Today it emails each recipient once the transaction commits (a rolled-back booking sends
nothing). The reminders issue makes delivery durable behind this same signature.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def render_message(kind: str, context: Mapping[str, object]) -> tuple[str, str]:
    """Subject (first line) and body of `templates/notifications/<kind>.txt`."""
    text = render_to_string(f"notifications/{kind}.txt", {**context, "site_url": settings.SITE_URL})
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def notify(*, users: Iterable, kind: str, context: Mapping[str, object], dedupe_key: str) -> None:
    recipients = sorted({user.email for user in users if user.email and user.is_active})
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = render_message(kind, context)

    def send() -> None:
        for email in recipients:
            try:
                send_mail(subject, body, None, [email])
            except OSError:  # an SMTP outage must not break the user's action
                logger.exception("notify %s to %s failed (%s)", kind, email, dedupe_key)

    transaction.on_commit(send)
