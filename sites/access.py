"""Fetch-and-authorize: a site by id, if the user may read it (or work on it), else 404.

Missing and out-of-scope both raise Http404 (never reveal that a site exists); what an allowed
reader may do is a permission of `sites.rules` (403 when refused).
"""

from __future__ import annotations

from django.http import Http404

from sites.models import HostSite


def get_site_for(user, pk, *, write: bool = False) -> HostSite:
    """The site `pk` if `user` may read it (or work on it, with `write=True`), else 404."""
    queryset = HostSite.objects.in_scope_of(user) if write else HostSite.objects.visible_to(user)
    try:
        return queryset.select_related("territory__department__region", "parent").get(pk=pk)
    except (HostSite.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
