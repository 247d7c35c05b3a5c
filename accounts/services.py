"""Writes of the accounts app that have rules: the inbox, the notification preferences and the
API tokens."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Notification, NotificationPreference, User
from accounts.notifications import MANDATORY_KINDS, notification_kinds

logger = logging.getLogger(__name__)


def notification_mark_read(*, user: User, pk: int, now: datetime | None = None) -> Notification:
    """Mark one of `user`'s messages read (again: no change). Someone else's: DoesNotExist."""
    notification = Notification.objects.visible_to(user).get(pk=pk)
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    return Notification.objects.visible_to(user).unread().update(read_at=now or timezone.now())


@transaction.atomic
def preferences_update(*, user: User, language: str, emailed: Iterable[str]) -> None:
    """Save the language of `user`'s messages and the kinds it wants by email too.

    Kinds not in `emailed` reach the inbox only; `MANDATORY_KINDS` are always emailed.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    emailed = set(emailed)
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    kinds = [kind for kind in notification_kinds() if kind not in MANDATORY_KINDS]
    NotificationPreference.objects.filter(user=user).exclude(kind__in=kinds).delete()
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, kind=kind, email=kind in emailed) for kind in kinds],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["email"],
    )


# --- API tokens -----------------------------------------------------------------------------


@transaction.atomic
def api_token_create(*, user: User, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`, valid `RELEVE_TOKEN_TTL`: returns it and its key, which is
    shown this once and never stored (only its SHA-256 digest is). The user's expired tokens
    are purged on the way."""
    now = now or timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API",
        prefix=key[: ApiToken.PREFIX_LENGTH],
        digest=ApiToken.hash(key),
        created_at=now,
        expires_at=now + settings.RELEVE_TOKEN_TTL,
    )
    logger.info("API token %s (%s…) created for user %s", token.pk, token.prefix, user.pk)
    return token, key


def api_token_revoke(*, user: User, pk: int) -> None:
    """Revoke one of `user`'s tokens; someone else's (or a missing one): DoesNotExist."""
    token = ApiToken.objects.filter(user=user).get(pk=pk)
    token.delete()
    logger.info("API token %s (%s…) of user %s revoked by its owner", pk, token.prefix, user.pk)
