from __future__ import annotations

from accounts.navigation import navigation_for
from accounts.roles import Role


def shell(request):
    """What the page shell shows: the signed-in user's roles and its navigation."""
    user = getattr(request, "user", None)
    role_labels: list[str] = []
    if user is not None and user.is_authenticated:
        # One query for the header and the navigation alike (none if the MFA check ran it).
        role_labels = [str(Role(role).label) for role in sorted(user.role_codes())]
    return {"nav_items": navigation_for(request), "role_labels": role_labels}
