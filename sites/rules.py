"""Who may act on a place: the predicates every app composes, and the sites' permissions.

One predicate per question, each one line of condition; pages and APIs ask the registered
permissions through `accounts.permissions` (never a role check of their own). Reading is a
matter of scope: `sites.access.get_site_for` (404 outside it).
"""

from __future__ import annotations

import rules

from accounts.roles import PILOT_ROLES, SITE_STAFF_ROLES, Role
from sites.models import HostSite, Territory


def _site_id(site: HostSite | int | None) -> int | None:
    return site.pk if isinstance(site, HostSite) else site


def site_of(obj) -> HostSite | int | None:
    """The site of a day, exam, task or incident: the loaded row when it was read with it (the
    staff rule then needs no query), else its id."""
    return obj.site if type(obj).site.is_cached(obj) else obj.site_id


def staff_of(user, site: HostSite | int | None, *roles: str) -> bool:
    """`user` holds one of `roles` (default: any site staff role) on `site`, or on its pôle
    mère when `site` is a secondary practice (`HostSite.objects.staffed_by`, the one rule); a
    platform operator (superuser) acts as any site's staff. No site (a result routed nowhere):
    nobody."""
    site_id = _site_id(site)
    if site_id is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if isinstance(site, HostSite):
        # The site is loaded: the same rule (`_staffed_q`) read from the user's memberships,
        # kept for the request with its roles — a page asking five times costs no query.
        wanted, places = set(roles or SITE_STAFF_ROLES), set(site.team_site_ids())
        return any(role in wanted and pk in places for role, pk in user.site_roles())
    return HostSite.objects.staffed_by(user, *roles).filter(pk=site_id).exists()


def manager_of(user, site: HostSite | int | None) -> bool:
    """Territory manager of the site's territory, or ARS manager of its region (or operator)."""
    site_id = _site_id(site)
    if site_id is None or not user.is_authenticated:
        return False
    return HostSite.objects.managed_by(user).filter(pk=site_id).exists()


@rules.predicate
def is_site_staff(user, site) -> bool:
    """Secretary, course nurse or medical assistant of the site (or of its pôle mère): its
    days, exams, results and sheet."""
    return staff_of(user, site)


@rules.predicate
def is_site_secretary(user, site) -> bool:
    """The site's secretary: opens its days (DESIGN.md § Who uses it)."""
    return staff_of(user, site, Role.SECRETARY)


@rules.predicate
def manages_site(user, site) -> bool:
    return manager_of(user, site)


@rules.predicate
def is_a_manager(user) -> bool:
    """National, ARS or territory manager (or operator): the piloting pages (reading)."""
    return user.is_authenticated and (user.is_superuser or user.has_role(*PILOT_ROLES))


@rules.predicate
def manages_a_territory(user) -> bool:
    return Territory.objects.managed_by(user).exists()


rules.add_perm("sites.register_site", manages_a_territory)  # in a territory it manages
rules.add_perm("sites.edit_sheet", is_site_staff | manages_site)
rules.add_perm("sites.submit_sheet", is_site_staff)
rules.add_perm("sites.publish_sheet", manages_site)  # publish, or send back to the site
rules.add_perm("sites.manage_site", manages_site)  # status, territory
rules.add_perm("sites.work_at_site", is_site_staff)  # the team's tools (its calendar feed)
rules.add_perm("sites.pilot", is_a_manager)  # site and volunteer lists, coverage
