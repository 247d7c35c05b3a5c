from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import path

from sites.models import HostSite, Territory

PAGE_SIZE = 25


@login_required
def territory_list(request):
    """Territories the signed-in manager pilots, with their number of host sites."""
    territories = (
        Territory.objects.managed_by(request.user)
        .select_related("department__region", "managing_structure")
        .annotate(site_count=Count("sites"))
        .order_by("department__region__name", "name")
    )
    page = Paginator(territories, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sites/territory_list.html", {"page_obj": page})


@login_required
def site_list(request):
    """Host sites within the signed-in user's scope."""
    sites = (
        HostSite.objects.in_scope_of(request.user)
        .select_related("territory__department")
        .order_by("territory__name", "name")
    )
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sites/site_list.html", {"page_obj": page})


urlpatterns = [
    path("territoires/", territory_list, name="territory_list"),
    path("sites/", site_list, name="site_list"),
]
