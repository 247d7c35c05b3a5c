"""Revoke a user's API tokens when its roles change; keep each site's "course nurse" readiness
item in step with its staff.

Roles are `Membership` rows, written by the admin (inline and page), the demo seed and the
volunteer profile service; a signal on our own model catches them all, cascades included, and
calls down into accounts (DESIGN.md: sites imports accounts, never the reverse). A password
change and a deactivation are handled by `User.save`.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from accounts.models import ApiToken, User
from accounts.roles import FOLLOW_UP_ROLES, Role
from sites.models import Membership


def revoke_tokens_on_membership_saved(sender, instance, created, raw=False, **kwargs):
    # Becoming a volunteer is what a doctor does to itself through the API (POST /volunteers/):
    # a role on oneself only, which must not cut the very token that asked for it.
    if raw or (created and instance.role == Role.VOLUNTEER):
        return
    ApiToken.objects.revoke_all(user_id=instance.user_id, reason="role granted or changed")


def revoke_tokens_on_membership_deleted(sender, instance, **kwargs):
    ApiToken.objects.revoke_all(user_id=instance.user_id, reason="role removed")


def refresh_course_nurse_on_membership(sender, instance, raw=False, created=None, **kwargs):
    """A follow-up membership (course nurse, medical assistant) at a site started, changed or
    ended: the site's course nurse item (and its secondary practices') follows. Any change of
    an existing membership too (its role may have just stopped being a follow-up one); a new
    secretary or a secretary leaving changes nothing."""
    if raw or instance.site_id is None:
        return
    if instance.role not in FOLLOW_UP_ROLES and created is not False:
        return
    from sites.services import follow_up_readiness_refresh

    follow_up_readiness_refresh(site_ids=[instance.site_id])


def refresh_course_nurse_on_user_saved(
    sender, instance, created=False, raw=False, update_fields=None, **kwargs
):
    """A course nurse or medical assistant deactivated (or reactivated) no longer counts (or
    counts again). Saves that name their fields without `is_active` (a login) are skipped."""
    if raw or created or (update_fields is not None and "is_active" not in update_fields):
        return
    sites = list(
        Membership.objects.filter(
            user_id=instance.pk, role__in=FOLLOW_UP_ROLES, site__isnull=False
        ).values_list("site_id", flat=True)
    )
    if sites:
        from sites.services import follow_up_readiness_refresh

        follow_up_readiness_refresh(site_ids=sites)


def connect() -> None:
    post_save.connect(
        refresh_course_nurse_on_membership,
        sender=Membership,
        dispatch_uid="sites.refresh_course_nurse_on_membership_saved",
    )
    post_delete.connect(
        refresh_course_nurse_on_membership,
        sender=Membership,
        dispatch_uid="sites.refresh_course_nurse_on_membership_deleted",
    )
    post_save.connect(
        refresh_course_nurse_on_user_saved,
        sender=User,
        dispatch_uid="sites.refresh_course_nurse_on_user_saved",
    )
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
