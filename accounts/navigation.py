"""Navigation per role: each app's pages register here as they come (see later issues)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import PILOT_ROLES, SITE_STAFF_ROLES, Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] | None = None  # None: every signed-in user
    staff_only: bool = False
    public: bool = False  # shown to visitors too


NAVIGATION: tuple[NavItem, ...] = (
    NavItem(_("Dashboard"), "home"),
    # Their site's month (`planning_item`): a link, or a list when they work at several sites.
    NavItem(_("Planning"), "site_planning", SITE_STAFF_ROLES),
    NavItem(_("Find a host site"), "catalogue", public=True),
    NavItem(
        _("Territories"),
        "territory_list",
        PILOT_ROLES,
    ),
    NavItem(
        _("Host sites"),
        "site_list",
        PILOT_ROLES | SITE_STAFF_ROLES,
    ),
    NavItem(
        _("Volunteers"),
        "volunteer_list",
        PILOT_ROLES,
    ),
    NavItem(_("My volunteer profile"), "volunteer_profile", frozenset({Role.VOLUNTEER})),
    NavItem(_("My planning"), "my_planning", frozenset({Role.VOLUNTEER})),
    NavItem(_("Open days"), "open_days", frozenset({Role.VOLUNTEER})),
    NavItem(_("Coverage"), "reports:coverage", PILOT_ROLES),
    NavItem(
        _("Follow-up"),
        "continuity_worklist",
        PILOT_ROLES | SITE_STAFF_ROLES,
    ),
    NavItem(_("My follow-ups"), "continuity_my_followups", frozenset({Role.VOLUNTEER})),
    NavItem(_("API"), "swagger-ui"),
    NavItem(_("Administration"), "admin:index", staff_only=True),
)


def planning_item(request, label) -> dict | None:
    """The site staff's "Planning": their site's month, or a list of their sites.

    Secretaries and course nurses live in their site's planning: it is one click away from
    every page, not three (Host sites → the site → Planning). Their sites are read with their
    roles (`User.staff_sites`): no query of its own.
    """
    links = []
    for pk, name in request.user.staff_sites():
        url = reverse("site_planning", args=[pk])
        links.append({"label": name, "url": url, "current": request.path == url})
    if not links:
        return None
    if len(links) == 1:
        return {**links[0], "label": label}
    current = any(link["current"] for link in links)
    return {"label": label, "url": None, "current": current, "children": links}


def navigation_for(request) -> list[dict]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    roles = user.role_codes() if signed_in else set()
    items = []
    for item in NAVIGATION:
        if not signed_in and not item.public:
            continue
        if item.staff_only and not user.is_staff:
            continue
        if item.roles is not None and not (roles & item.roles) and not user.is_superuser:
            continue
        if item.url_name == "site_planning":
            planning = planning_item(request, item.label)
            if planning:
                items.append(planning)
            continue
        url = reverse(item.url_name)
        items.append({"label": item.label, "url": url, "current": request.path == url})
    return items
