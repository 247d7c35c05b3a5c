"""Fetch-and-authorize: a volunteer by id, if the user may see it (`visible_to`), else 404."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404

from sites.models import Territory
from volunteers.models import Volunteer


def preferred_territories() -> Prefetch:
    return Prefetch(
        "preferred_territories", queryset=Territory.objects.select_related("department")
    )


def get_volunteer_for(user, pk) -> Volunteer:
    """The volunteer `pk` if `user` sees it; 404 for missing and out of scope alike."""
    volunteers = (
        Volunteer.objects.visible_to(user)
        .select_related("user", "home_department", "practice_territory__department", "verified_by")
        .prefetch_related(preferred_territories())
    )
    try:
        return volunteers.get(pk=pk)
    except (Volunteer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
