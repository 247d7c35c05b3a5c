from __future__ import annotations

from functools import cached_property

from accounts.models import Notification
from accounts.navigation import navigation_for
from accounts.roles import Role


class InboxBadge:
    """The bell's unread count: one query, run only if the page shows the bell."""

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        return Notification.objects.visible_to(self.user).unread().count()


def shell(request):
    """What the page shell shows: the signed-in user's roles, its navigation and its bell."""
    user = getattr(request, "user", None)
    role_labels: list[str] = []
    inbox = None
    if user is not None and user.is_authenticated:
        # One query for the header and the navigation alike (none if the MFA check ran it).
        role_labels = [str(Role(role).label) for role in sorted(user.role_codes())]
        inbox = InboxBadge(user)
    return {"nav_items": navigation_for(request), "role_labels": role_labels, "inbox": inbox}
