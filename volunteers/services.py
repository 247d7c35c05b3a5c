"""Every write on volunteer profiles: registration, verification, commitment, availability."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from accounts.roles import Role
from sites.models import Membership, Territory
from volunteers.charter import CURRENT_VERSION
from volunteers.models import COMMITMENT_VALIDITY, Availability, Commitment, Period, Volunteer

PROFILE_FIELDS = frozenset(
    {"rpps", "practice_status", "home_department", "practice_territory", "software",
     "mss_address", "phone"}
)  # fmt: skip


NAME_FIELDS = ("first_name", "last_name")


def _set_name(user, names: dict[str, str]) -> None:
    """The doctor's name lives on the user: written in the same transaction as the profile."""
    names = {key: value.strip() for key, value in names.items() if value is not None}
    if not names:
        return
    for key, value in names.items():
        setattr(user, key, value)
    user.save(update_fields=list(names))


def _pop_names(fields: dict[str, Any]) -> dict[str, str]:
    return {key: fields.pop(key) for key in NAME_FIELDS if key in fields}


@transaction.atomic
def volunteer_register(
    *, user, preferred_territories: Iterable[Territory] = (), **fields: Any
) -> Volunteer:
    """A signed-in doctor creates its own profile (pending until a manager verifies it)."""
    if Volunteer.objects.filter(user=user).exists():
        raise ValidationError({"rpps": [_("You already have a volunteer profile.")]})
    names = _pop_names(fields)
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    volunteer = Volunteer(user=user, **fields)
    save_tracked(volunteer, by=user, validate=True)
    _set_name(user, names)
    volunteer.preferred_territories.set(preferred_territories)
    Membership.objects.get_or_create(user=user, role=Role.VOLUNTEER)
    return volunteer


@transaction.atomic
def volunteer_update(
    *, volunteer: Volunteer, by, preferred_territories=None, **fields: Any
) -> Volunteer:
    names = _pop_names(fields)
    unknown = set(fields) - PROFILE_FIELDS - {"max_days_per_month"}
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    for name, value in fields.items():
        setattr(volunteer, name, value)
    save_tracked(volunteer, by=by, validate=True)
    _set_name(volunteer.user, names)
    if preferred_territories is not None:
        volunteer.preferred_territories.set(preferred_territories)
    return volunteer


def volunteer_set_max_days(*, volunteer: Volunteer, by, max_days: Decimal) -> Volunteer:
    """A manager lets one volunteer come more often (some retirees come a week a month);
    the history keeps who changed it and when."""
    return volunteer_update(volunteer=volunteer, by=by, max_days_per_month=max_days)


@transaction.atomic
def volunteer_verify(
    *, volunteer: Volunteer, by, evidence: str, now: datetime | None = None
) -> Volunteer:
    """A manager checked the ordinal registration (CDOM): who, when and on what evidence."""
    if not evidence.strip():
        raise ValidationError(
            {"evidence": [_("Say how the registration with the Order was checked.")]}
        )
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status == Volunteer.Status.VERIFIED:
        raise DomainError("invalid_transition", _("This volunteer is already verified."))
    volunteer.status = Volunteer.Status.VERIFIED
    volunteer.verified_at = now or timezone.now()
    volunteer.verified_by = by
    volunteer.verification_evidence = evidence.strip()
    save_tracked(volunteer, by=by, validate=True)
    return volunteer


@transaction.atomic
def commitment_sign(
    *,
    volunteer: Volunteer,
    charter_version: str,
    channels: Iterable[str] = (Commitment.Channel.MSSANTE, Commitment.Channel.PHONE),
    response_hours: int = 72,
    now: datetime | None = None,
) -> Commitment:
    if charter_version != CURRENT_VERSION:
        raise ValidationError(
            {
                "charter_version": [
                    _("Sign the current charter (version %(v)s).") % {"v": CURRENT_VERSION}
                ]
            }
        )
    channels = list(dict.fromkeys(channels))
    if not channels or set(channels) - set(Commitment.Channel.values):
        raise ValidationError({"channels": [_("Choose at least one follow-up channel.")]})
    now = now or timezone.now()
    commitment = Commitment(
        volunteer=volunteer,
        charter_version=charter_version,
        channels=channels,
        response_hours=response_hours,
        accepted_at=now,
        valid_until=timezone.localdate(now) + COMMITMENT_VALIDITY,
    )
    commitment.full_clean()
    commitment.save()
    return commitment


@transaction.atomic
def availability_declare(
    *,
    volunteer: Volunteer,
    date: Date,
    period: str = Period.DAY,
    territories: Iterable[Territory] = (),
    note: str = "",
    today: Date | None = None,
) -> Availability:
    today = today or timezone.localdate()
    if date < today:
        raise ValidationError({"date": [_("This date is in the past.")]})
    availability, _created = Availability.objects.update_or_create(
        volunteer=volunteer, date=date, period=period, defaults={"note": note}
    )
    availability.full_clean()
    availability.territories.set(territories)
    return availability


@transaction.atomic
def calendar_rotate(*, volunteer: Volunteer) -> Volunteer:
    """A new secret for the private calendar feed: the old URL stops working at once."""
    from volunteers.models import new_calendar_token

    # A fresh, locked row and only the token column: nothing stale is written back. The
    # history keeps who rotated it and when (the token itself is excluded from history).
    row = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    row.calendar_token = new_calendar_token()
    save_tracked(row, by=volunteer.user, fields=["calendar_token"], reason="calendar link rotated")
    volunteer.calendar_token = row.calendar_token
    return volunteer
