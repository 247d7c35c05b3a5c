"""The two adapters over the object permissions registered with `rules` (DESIGN.md, STYLE.md
§ Permissions in one place).

Each app defines its predicates once, in its `rules.py` (`sites.rules`, `volunteers.rules`,
`vacations.rules`, `continuity.rules`), and registers them as permissions named
`<app>.<action>` (`vacations.open_day`). A page asks `require(user, "vacations.open_day", site)`
(403 when refused), an API view lists the permission of each action in
`object_permissions` and lets `ObjectRulesPermission` ask it when `get_object()` runs, or calls
`require` itself for an object it got otherwise. Neither re-derives a role.

Why `rules.has_perm` and not `user.has_perm`: Django grants every permission to an active
superuser before asking any backend, which would let a platform operator "answer as the
prescriber" or "withdraw" someone else's day. The predicates say what a superuser may do.
(`rules.permissions.ObjectPermissionBackend` is still installed, for `{% has_perm %}` and the
admin.)
"""

from __future__ import annotations

import rules
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


def allowed(user, perm: str, obj=None) -> bool:
    """May `user` do `perm` to `obj`? The one question pages, APIs and templates ask."""
    return rules.has_perm(perm, user, obj)


def require(user, perm: str, obj=None) -> None:
    """`allowed`, or 403 (the object was fetched in the user's scope first: else 404)."""
    if not allowed(user, perm, obj):
        raise PermissionDenied


class ObjectRulesPermission(BasePermission):
    """DRF's side: the viewset maps its actions to permissions (`object_permissions`); an
    action not listed needs only to see the object (its queryset is `visible_to(user)`)."""

    def has_object_permission(self, request, view, obj) -> bool:
        perm = getattr(view, "object_permissions", {}).get(getattr(view, "action", None))
        return perm is None or allowed(request.user, perm, obj)
