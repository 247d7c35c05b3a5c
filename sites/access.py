"""Fetch-and-authorize helpers: the one place that says who may read or change a site.

Missing and out-of-scope both raise Http404 (never reveal that a site exists); an allowed
site with a forbidden action is the caller's `can_*` check failing, answered with 403.
"""

from __future__ import annotations

from django.http import Http404

from accounts.roles import SITE_STAFF_ROLES
from sites.models import HostSite


def get_site_for(user, pk, *, write: bool = False) -> HostSite:
    """The site `pk` if `user` may read it (or work on it, with `write=True`), else 404."""
    queryset = HostSite.objects.in_scope_of(user) if write else HostSite.objects.visible_to(user)
    try:
        return queryset.select_related("territory__department__region", "parent").get(pk=pk)
    except (HostSite.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def is_site_staff(user, site: HostSite | int) -> bool:
    return (
        user.is_authenticated
        and user.memberships.filter(site=site, role__in=SITE_STAFF_ROLES).exists()
    )


def works_at(user, site_id: int | None) -> bool:
    """Secretary or course nurse of the site `site_id`, or a platform operator: who acts on
    the site's days, exams and results."""
    if user.is_superuser:
        return True
    return site_id is not None and is_site_staff(user, site_id)


def manages_site(user, site: HostSite) -> bool:
    """Territory manager of the site's territory, or ARS manager of its region."""
    return HostSite.objects.managed_by(user).filter(pk=site.pk).exists()


def can_edit_sheet(user, site: HostSite) -> bool:
    return is_site_staff(user, site) or manages_site(user, site)


def can_submit_sheet(user, site: HostSite) -> bool:
    return is_site_staff(user, site) or user.is_superuser


def can_publish_sheet(user, site: HostSite) -> bool:
    return manages_site(user, site)


def can_manage_site(user, site: HostSite) -> bool:
    """Change a site's status or territory, or register sites: managers only."""
    return manages_site(user, site)
