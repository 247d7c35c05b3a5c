"""Who may act on a volunteer's profile."""

from __future__ import annotations

import rules

from volunteers.models import Volunteer


@rules.predicate
def has_volunteer_profile(user) -> bool:
    return user.is_authenticated and Volunteer.objects.filter(user=user).exists()


@rules.predicate
def is_the_volunteer(user, volunteer) -> bool:
    return volunteer is not None and user.is_authenticated and volunteer.user_id == user.pk


@rules.predicate
def manages_volunteer(user, volunteer) -> bool:
    """ARS of the volunteer's region, or manager of a territory it chose (or operator); seeing
    a volunteer as site staff grants nothing here."""
    return volunteer is not None and (
        Volunteer.objects.managed_by(user).filter(pk=volunteer.pk).exists()
    )


rules.add_perm("volunteers.verify_volunteer", manages_volunteer)
rules.add_perm("volunteers.set_max_days", manages_volunteer)
rules.add_perm("volunteers.edit_profile", is_the_volunteer | manages_volunteer)
