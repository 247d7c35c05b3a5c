"""Fetch-and-authorize: a day by id, if the user may see it (`visible_to`), else 404."""

from __future__ import annotations

from django.http import Http404

from vacations.models import Vacation


def get_vacation_for(user, pk) -> Vacation:
    """The day `pk` if `user` sees it, else 404 (missing and out of scope alike)."""
    days = Vacation.objects.visible_to(user).select_related(
        "site__territory__department", "site__info_sheet", "volunteer__user", "preparation"
    )
    try:
        return days.get(pk=pk)
    except (Vacation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
