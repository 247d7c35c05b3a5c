"""Revoke a user's API tokens when its roles change.

Roles are `Membership` rows, written by the admin (inline and page), the demo seed and the
volunteer profile service; a signal on our own model catches them all, cascades included, and
calls down into accounts (DESIGN.md: sites imports accounts, never the reverse). A password
change and a deactivation are handled by `User.save`.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from accounts.models import ApiToken
from accounts.roles import Role
from sites.models import Membership


def revoke_tokens_on_membership_saved(sender, instance, created, raw=False, **kwargs):
    # Becoming a volunteer is what a doctor does to itself through the API (POST /volunteers/):
    # a role on oneself only, which must not cut the very token that asked for it.
    if raw or (created and instance.role == Role.VOLUNTEER):
        return
    ApiToken.objects.revoke_all(user_id=instance.user_id, reason="role granted or changed")


def revoke_tokens_on_membership_deleted(sender, instance, **kwargs):
    ApiToken.objects.revoke_all(user_id=instance.user_id, reason="role removed")


def connect() -> None:
    post_save.connect(
        revoke_tokens_on_membership_saved,
        sender=Membership,
        dispatch_uid="sites.revoke_tokens_on_membership_saved",
    )
    post_delete.connect(
        revoke_tokens_on_membership_deleted,
        sender=Membership,
        dispatch_uid="sites.revoke_tokens_on_membership_deleted",
    )
