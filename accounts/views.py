from __future__ import annotations

from django.shortcuts import render


def home(request):
    """Landing page for visitors; a dashboard of one's roles and places once signed in."""
    if not request.user.is_authenticated:
        return render(request, "home_public.html")
    memberships = request.user.memberships.select_related(
        "region", "territory__department", "site__territory"
    ).order_by("role", "pk")
    return render(request, "accounts/dashboard.html", {"memberships": memberships})
