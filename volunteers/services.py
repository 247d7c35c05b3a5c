"""Every write on volunteer profiles: registration, verification, commitment, availability."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from accounts.notifications import notify
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


def _identity_changed(volunteer: Volunteer, fields: dict[str, Any], names: dict[str, str]) -> bool:
    """Whether the update changes who the doctor is: the RPPS number or the name (what the
    manager checked against the Order's register)."""
    if "rpps" in fields and (fields["rpps"] or "") != volunteer.rpps:
        return True
    user = volunteer.user
    return any(
        value is not None and value.strip() != getattr(user, key) for key, value in names.items()
    )


def _verifiers(volunteer: Volunteer, *, previous) -> list:
    """Who verifies this volunteer: the territory managers of its preferred territories and
    whoever verified it, else the ARS managers of its home region."""
    memberships = Membership.objects.filter(
        role=Role.TERRITORY_MANAGER, territory__in=volunteer.preferred_territories.all()
    )
    users = {m.user.pk: m.user for m in memberships.select_related("user")}
    if previous is not None:
        users.setdefault(previous.pk, previous)
    if not users:
        ars = Membership.objects.filter(
            role=Role.ARS_MANAGER, region_id=volunteer.home_department.region_id
        ).select_related("user")
        users = {m.user.pk: m.user for m in ars}
    return list(users.values())


def _tell_verifiers(volunteer: Volunteer, *, previous) -> None:
    change = volunteer.history.latest().history_id
    notify(
        users=_verifiers(volunteer, previous=previous),
        kind="volunteer_identity_changed",
        context={
            "volunteer": volunteer.full_name,
            "link": reverse("volunteer_detail", args=[volunteer.pk]),
        },
        dedupe_key=f"volunteer_identity_changed:{volunteer.pk}:{change}",
    )


@transaction.atomic
def volunteer_update(
    *, volunteer: Volunteer, by, preferred_territories=None, **fields: Any
) -> Volunteer:
    """Edit a profile. A verified volunteer who changes its RPPS number or its name goes back
    to `pending` (no new booking until a manager verifies it again, who is told); a manager
    who verifies it may correct them without that."""
    names = _pop_names(fields)
    unknown = set(fields) - PROFILE_FIELDS - {"max_days_per_month"}
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    reverify = (
        volunteer.status == Volunteer.Status.VERIFIED
        and _identity_changed(volunteer, fields, names)
        and not Volunteer.objects.managed_by(by).filter(pk=volunteer.pk).exists()
    )
    previous_verifier = volunteer.verified_by
    for name, value in fields.items():
        setattr(volunteer, name, value)
    if reverify:
        # The verification named someone else, or another number: it no longer holds.
        volunteer.status = Volunteer.Status.PENDING
        volunteer.verified_at = volunteer.verified_by = None
        volunteer.verification_evidence = ""
    save_tracked(volunteer, by=by, validate=True)
    _set_name(volunteer.user, names)
    if preferred_territories is not None:
        volunteer.preferred_territories.set(preferred_territories)
    if reverify:
        _tell_verifiers(volunteer, previous=previous_verifier)
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
