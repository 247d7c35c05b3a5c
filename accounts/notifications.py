"""The one entry point for telling people something: `notify(...)` (`notify_many` for a batch).

`notify` writes one `Notification` row per recipient inside the caller's transaction (a
rolled-back booking leaves none) and asks a Celery worker to deliver it once the transaction
commits. The row is the durable part: if the broker is down, the request still succeeds and the
sweeper (`requeue_notifications`) enqueues the message again later; delivery claims the row, so
a message queued twice is still sent once.

A new kind of message is one file, `templates/notifications/<kind>.txt`: the subject on the
first line, the plain-text body below. It is rendered in the recipient's language
(`User.language`, French by default), with these conventions for the context:

- `link` (or `url`, its alias): the page the message is about, a path (`reverse(...)`) or an
  absolute URL. Templates see it absolute (`{{ link }}`, `{{ url }}`); the inbox entry and the
  email's button open it.
- `site_url` is given to every template.
- Values are rendered as given (a lazy translation follows the recipient's language) and kept
  as strings in `Notification.context`.

The HTML email is the plain text inside one shared layout (`emails/notification.html`), unless
`notifications/<kind>.html` exists (it extends that layout and sees the same context).

Every message lands in the recipient's inbox. Email can be turned off per kind
(`NotificationPreference`), except for `MANDATORY_KINDS`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.delivery import (  # noqa: F401 - deliver, email_wanted…: this module's API too
    MANDATORY_KINDS,
    MAX_ATTEMPTS,
    STALE_AFTER,
    absolute_url,
    build_email,
    deliver,
    email_wanted,
    language_of,
    layout_context,
)
from accounts.models import Notification
from accounts.tasks import enqueue_many, requeue_stale  # noqa: F401 - requeue_stale: ditto

# What the preferences page calls each kind; a kind missing here shows its code, readable.
KIND_LABELS: dict[str, str] = {
    "vacation_requested": _("A volunteer asks for a day at your site"),
    "vacation_booked": _("A day is booked for you"),
    "vacation_declined": _("Your request for a day is declined"),
    "night_confirmed": _("A night at the site's accommodation is confirmed"),
    "night_declined": _("A night at the site's accommodation is declined"),
    "vacation_withdrawn": _("A volunteer withdraws from a day"),
    "vacation_cancelled": _("A day you were booked on is cancelled"),
    "vacation_reminder": _("Reminders before your days"),
    "vacation_reminder_site": _("Reminders before a volunteer comes"),
    "request_waiting": _("A request waits for your answer"),
    "call_for_volunteers": _("Calls for volunteers"),
    "monthly_statement": _("Your monthly indemnity statement"),
    "monthly_indemnities": _("Indemnities due in your territories"),
    "weekly_digest": _("Weekly summary of your territories"),
    "monthly_summary": _("Monthly summary of your region"),
    "task_escalated": _("Escalated follow-up tasks"),
    "contact_request": _("Questions about your patients"),
    "task_assigned": _("Follow-up tasks given to you"),
    "contact_reminder": _("Reminders of a question waiting for your answer"),
    "contact_answered": _("Answers of a prescriber to your question"),
    "volunteer_identity_changed": _("A verified volunteer changes their name or RPPS number"),
    "sheet_submitted": _("A site submits its information sheet or changes to it"),
    "sheet_returned": _("Your information sheet is sent back to you"),
    "feedback_requested": _("Feedback asked after a done day"),
    "feedback_reminder": _("A reminder of the feedback on a done day"),
    "incident_urgent": _("Urgent incidents in your territories"),
}


@dataclass(frozen=True)
class Message:
    """One message for `notify_many`: the same arguments as `notify`."""

    users: Sequence
    kind: str
    context: Mapping[str, object] = field(default_factory=dict)
    dedupe_key: str = ""


# --- Kinds, languages, rendering ------------------------------------------------------------


@functools.cache
def _templates(suffix: str) -> frozenset[str]:
    folders = [Path(folder) for engine in settings.TEMPLATES for folder in engine["DIRS"]]
    folders += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    return frozenset(
        path.stem for folder in folders for path in (folder / "notifications").glob(f"*{suffix}")
    )


def notification_kinds() -> list[str]:
    """Every kind of message: one per `notifications/<kind>.txt` template."""
    return sorted(_templates(".txt"))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize())


def link_of(context: Mapping[str, object]) -> str:
    """The page a message is about, as given (`link`, or `url`)."""
    return str(context.get("link") or context.get("url") or "")


def _template_context(context: Mapping[str, object]) -> dict[str, object]:
    values = {**context, "site_url": settings.SITE_URL}
    for name in ("link", "url"):
        if context.get(name):
            values[name] = absolute_url(str(context[name]))
    return values


def render_message(kind: str, context: Mapping[str, object]) -> tuple[str, str]:
    """Subject (first line) and body of `templates/notifications/<kind>.txt`, in the active
    language."""
    text = render_to_string(f"notifications/{kind}.txt", _template_context(context))
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def render_html(kind: str, context: Mapping[str, object], *, subject: str, body: str) -> str:
    """The HTML email in the active language: `notifications/<kind>.html` if there is one,
    else the shared layout around the plain text."""
    layout = layout_context(subject=subject, body=body, link=link_of(context))
    if kind in _templates(".html"):
        return render_to_string(
            f"notifications/{kind}.html", {**_template_context(context), **layout}
        )
    return render_to_string("emails/notification.html", layout)


def _stored(value: object) -> object:
    """Context as JSON: containers kept, every other value as the string it renders to."""
    if isinstance(value, Mapping):
        return {str(key): _stored(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(item) for item in value]
    return str(value)


# --- Writing --------------------------------------------------------------------------------


def notify(
    *,
    users: Iterable,
    kind: str,
    context: Mapping[str, object],
    dedupe_key: str,
    new_key: bool = False,
) -> list[Notification]:
    """Write a message for each active recipient (once per `dedupe_key`) and enqueue it."""
    return notify_many([Message(tuple(users), kind, context, dedupe_key)], new_keys=new_key)


def notify_many(messages: Iterable[Message], *, new_keys: bool = False) -> list[Notification]:
    """`notify` for many messages at once: one query to find those already written, one
    rendering per message and language, one bulk insert, one enqueue after the commit.

    Returns the notifications written now (those whose key existed are left alone).
    `new_keys`: the caller knows no message has these keys yet (they name a row it created in
    its own transaction): no lookup, and a plain insert.
    """
    messages = list(messages)
    wanted: dict[str, tuple[object, int]] = {}  # dedupe key → (recipient, message index)
    for index, message in enumerate(messages):
        for user in message.users:
            if user.email and user.is_active:
                wanted.setdefault(f"{message.dedupe_key}:{user.pk}"[:255], (user, index))
    if not wanted:
        return []
    keys = list(wanted)
    existing: set[str] = set()
    for start in range(0, 0 if new_keys else len(keys), 500):
        existing.update(
            Notification.objects.filter(dedupe_key__in=keys[start : start + 500]).values_list(
                "dedupe_key", flat=True
            )
        )
    by_language: dict[str, list[str]] = {}
    for key, (user, _index) in wanted.items():
        if key not in existing:
            by_language.setdefault(language_of(user), []).append(key)
    # The context as kept on the rows: rendered once per message, in the caller's language.
    to_write = {wanted[key][1] for language_keys in by_language.values() for key in language_keys}
    stored = {index: _stored(dict(messages[index].context)) for index in to_write}
    rows = []
    for language, language_keys in by_language.items():
        rendered: dict[int, tuple[str, str, str]] = {}
        with translation.override(language):
            for key in language_keys:
                user, index = wanted[key]
                message = messages[index]
                if index not in rendered:
                    rendered[index] = _render_row(message)
                subject, body, html = rendered[index]
                rows.append(
                    Notification(
                        recipient=user, kind=message.kind, subject=subject, body=body, html=html,
                        link=link_of(message.context)[:500],
                        context=stored[index], dedupe_key=key,
                    )
                )  # fmt: skip
    written = Notification.objects.bulk_create(rows, batch_size=500) if new_keys else _insert(rows)
    if written:
        pks = [notification.pk for notification in written]
        transaction.on_commit(lambda: enqueue_many(pks))
    return written


def _render_row(message: Message) -> tuple[str, str, str]:
    """Subject, body and, for a kind with an HTML template of its own, its HTML (rendered now,
    with the live context); in the active language."""
    subject, body = render_message(message.kind, message.context)
    html = ""
    if message.kind in _templates(".html"):
        html = render_html(message.kind, message.context, subject=subject, body=body)
    return subject[:255], body, html


def _insert(rows: list[Notification]) -> list[Notification]:
    try:
        with transaction.atomic():
            return Notification.objects.bulk_create(rows, batch_size=500)
    except IntegrityError:
        # Another transaction wrote some of these keys since we looked: one by one, then.
        written = []
        for row in rows:
            defaults = {
                name: getattr(row, name)
                for name in ("recipient", "kind", "subject", "body", "html", "link", "context")
            }
            notification, created = Notification.objects.get_or_create(
                dedupe_key=row.dedupe_key, defaults=defaults
            )
            if created:
                written.append(notification)
        return written
