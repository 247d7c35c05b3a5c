"""The demo world as a whole (`manage.py seed_demo`, `make run`): seeding every app's part in one
transaction, keeping the seed's own messages out of the mail, and the block that tells a
developer where things are."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation

from accounts.models import Notification, User
from accounts.roles import Role
from continuity import demo as continuity_demo
from feedback import demo as feedback_demo
from sites import demo as sites_demo
from vacations import demo as vacations_demo
from volunteers import demo as volunteers_demo

URL = "http://127.0.0.1:8000/"
DEMO_DOMAIN = "@demo.releve.fr"
# Order of the accounts in the block: as the README's table.
ROLE_ORDER = (
    Role.NATIONAL_MANAGER, Role.ARS_MANAGER, Role.TERRITORY_MANAGER, Role.SECRETARY,
    Role.COURSE_NURSE, Role.MEDICAL_ASSISTANT, Role.VOLUNTEER,
)  # fmt: skip


def seed() -> tuple[int, int, int]:
    """Create what is missing of the demo's people, places, days and follow-up (the territories
    are loaded before). Returns (vacation days created, exams, messages marked delivered).

    One transaction: the messages the seed writes (bookings, assignments, escalations of the
    story's past) are marked delivered before the commit hands them to the worker, which then
    skips them. They are in each inbox; no email goes out for a past that never happened.
    """
    with transaction.atomic():
        before = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        sites_demo.seed()
        verifier = User.objects.get(email="cpts@demo.releve.fr")
        volunteers_demo.seed(verifier=verifier)
        days = vacations_demo.seed(close_day=continuity_demo.close_day)
        exams = continuity_demo.seed()
        feedback_demo.seed()
        delivered = mark_delivered(after=before)
    return days, exams, delivered


def mark_delivered(*, after: int) -> int:
    """The messages written since `after` and not sent yet: in the inbox only, as delivered."""
    return Notification.objects.filter(pk__gt=after, status=Notification.Status.QUEUED).update(
        status=Notification.Status.SENT,
        channel=Notification.Channel.INAPP,
        sent_at=timezone.now(),
    )


def where_mail_goes() -> str:
    """Where an email sent by this process ends up, in words (the block's "Mail" line)."""
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "filebased":
        path = Path(settings.EMAIL_FILE_PATH)
        if path.is_relative_to(settings.BASE_DIR):
            path = path.relative_to(settings.BASE_DIR)
        return f"written as files under {path}/ (one .log file per email; nothing is sent)"
    if backend == "console":
        return "printed by the Celery worker that sends it (nothing is sent)"
    if backend == "locmem":
        return "kept in memory (tests)"
    if backend == "dummy":
        return "discarded"
    return f"sent by SMTP through {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"


def accounts() -> list[tuple[str, str, str]]:
    """(email, role, scope) of each demo account, from what the database says."""
    users = (
        User.objects.filter(email__endswith=DEMO_DOMAIN)
        .prefetch_related("memberships__site", "memberships__territory", "memberships__region")
        .select_related("volunteer_profile")
    )
    rows = []
    with translation.override("en"):
        rows.extend(
            (membership.role, user.email, _scope(user, membership))
            for user in users
            for membership in user.memberships.all()
        )
    order = {role: index for index, role in enumerate(ROLE_ORDER)}
    # Sorted whole (role, email, then scope): the database returns memberships in any order.
    rows.sort(key=lambda row: (order.get(row[0], len(order)), row[1], row[2]))
    merged: dict[tuple[str, str], list[str]] = {}
    for role, email, scope in rows:
        merged.setdefault((email, role), [])
        if scope not in merged[(email, role)]:
            merged[(email, role)].append(scope)
    with translation.override("en"):
        return [
            (email, str(Role(role).label), ", ".join(scopes))
            for (email, role), scopes in merged.items()
        ]


def _scope(user: User, membership) -> str:
    if membership.role == Role.NATIONAL_MANAGER:
        return "all of France"
    if membership.region_id:
        return membership.region.name
    if membership.territory_id:
        return membership.territory.name
    if membership.site_id:
        return membership.site.name
    volunteer = getattr(user, "volunteer_profile", None)
    if volunteer is None:
        return ""
    if volunteer.is_eligible():
        return "verified, charter signed: can request days"
    return "awaiting verification by a manager"


def summary(*, url: str = URL, running: bool = False) -> str:
    """The block `make run` ends on: the address, the accounts, where mail goes, how to stop
    (`running`: printed by scripts/run-all.sh once the server answers)."""
    rule = "─" * 78
    if settings.RELEVE_ENFORCE_MFA:
        mfa = "managers and the nurse set up an authenticator app (TOTP) at first sign-in"
    else:
        mfa = "not asked here (RELEVE_ENFORCE_MFA is off while DEBUG is on)"
    rows = accounts()
    width = max((len(email) for email, _role, _scope in rows), default=0)
    role_width = max((len(role) for _email, role, _scope in rows), default=0)
    lines = [
        rule,
        f"Relève demo: {url}" if running else f"Relève demo world (make run serves it on {url})",
        "",
        "Accounts:",
        *(f"  {row[0]:{width}}  {row[1]:{role_width}}  {row[2]}".rstrip() for row in rows),
        f"Password: {sites_demo.DEMO_PASSWORD} (every account).",
        f"Second factor: {mfa}.",
        "",
        f"Mail: {where_mail_goes()}.",
        "  The demo's own messages are in each account's inbox (the bell), marked delivered.",
    ]
    if running:
        lines += [
            "Logs: Celery worker and beat in var/log/worker.log and var/log/beat.log.",
            "Stop: Ctrl-C (stops the web server, the worker and beat).",
        ]
    lines.append(rule)
    return "\n".join(lines)
