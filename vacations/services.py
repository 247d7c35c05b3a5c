"""Every transition of a vacation day, with its rules (API.md § Vacations).

Rules and their codes: `not_bookable` (only active sites with a published sheet open days),
`site_full` (never more open-or-taken days at a site at once than its rooms), `quota_exceeded`
(a volunteer's monthly maximum, a half-day counting 0.5, per calendar month in Paris),
`overlap` (never two taken vacations of one volunteer at once), `volunteer_not_eligible`
(verified, with a valid commitment), `invalid_transition` (anything else out of order).

Races: every service locks the rows it decides on, always in the same order — volunteer,
then site, then vacation — so that two requests for the same resources queue up instead of
both passing the checks. PostgreSQL's exclusion constraint backs the overlap rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from accounts.notifications import notify
from sites.models import HostSite, InfoSheet
from vacations.models import (
    DayPreparation,
    Vacation,
    VacationRelease,
    overlapping_periods,
    period_weight,
    slot_bounds,
)
from volunteers.models import BOOKING_GAPS, Period, Volunteer

Status = Vacation.Status


def _refuse(code: str, message: str) -> DomainError:
    return DomainError(code, message)


def _invalid(message: str) -> DomainError:
    return DomainError("invalid_transition", message)


def _lock_volunteer(volunteer: Volunteer) -> Volunteer:
    return Volunteer.objects.select_for_update().get(pk=volunteer.pk)


def _lock_site(site_id: int) -> HostSite:
    return HostSite.objects.select_for_update().get(pk=site_id)


def _lock_vacation(vacation: Vacation) -> Vacation:
    return Vacation.objects.select_for_update().get(pk=vacation.pk)


def indemnity_for(period: str) -> Decimal:
    if period == Period.DAY:
        return Decimal(settings.RELEVE_DAY_INDEMNITY)
    return Decimal(settings.RELEVE_HALF_DAY_INDEMNITY)


# --- Checks (each raises the refusal with its code) -----------------------------------------


def check_site_bookable(site: HostSite, *, opening: bool = True) -> None:
    """Only an active site with a published sheet opens days, or takes a volunteer on one
    (a site suspended after opening its days keeps them, but nobody can take them)."""
    published = InfoSheet.objects.filter(site=site, status=InfoSheet.Status.PUBLISHED).exists()
    if site.status != HostSite.Status.ACTIVE or not published:
        raise _refuse(
            "not_bookable",
            _("Only an active site with a published information sheet can open days.")
            if opening
            else _(
                "This site does not take volunteers at the moment: only an active site with "
                "a published information sheet can be booked."
            ),
        )


def check_room_free(site: HostSite, day: Date, period: str, *, exclude: int | None = None) -> None:
    busy = (
        Vacation.objects.occupying_a_room()
        .filter(site=site, date=day, period__in=overlapping_periods(period))
        .exclude(pk=exclude)
    )
    # Count the most crowded half of the day: a full day needs a room all day long.
    halves = [Period.AM, Period.PM] if period == Period.DAY else [period]
    for half in halves:
        if busy.filter(period__in=overlapping_periods(half)).count() >= site.rooms:
            raise _refuse(
                "site_full",
                _("All %(rooms)s consultation rooms of this site are already taken then.")
                % {"rooms": site.rooms},
            )


def check_eligible(volunteer: Volunteer, *, today: Date, yourself: bool = False) -> None:
    """Refuse a volunteer who may not take a day; `yourself`: the volunteer asks, and is told
    in the second person what is missing."""
    gaps = volunteer.booking_gaps(today=today)
    if gaps and yourself:
        raise _refuse(
            "volunteer_not_eligible",
            _("You cannot request a day yet: %(missing)s.")
            % {"missing": "; ".join(str(BOOKING_GAPS[gap]) for gap in gaps)},
        )
    if gaps:
        raise _refuse(
            "volunteer_not_eligible",
            _(
                "This volunteer cannot be booked: the profile must be verified and the "
                "follow-up commitment signed within the last 12 months."
            ),
        )


def check_no_overlap(volunteer: Volunteer, vacation: Vacation) -> None:
    clash = (
        Vacation.objects.taken()
        .filter(
            volunteer=volunteer,
            date=vacation.date,
            period__in=overlapping_periods(vacation.period),
        )
        .exclude(pk=vacation.pk)
        .select_related("site")
        .first()
    )
    if clash is not None:
        raise _refuse(
            "overlap",
            _("This volunteer is already expected at %(site)s on %(date)s.")
            % {"site": clash.site, "date": clash.date.strftime("%d/%m/%Y")},
        )


def days_taken_in_month(volunteer: Volunteer, day: Date, *, exclude: int | None = None) -> Decimal:
    weight = period_weight()
    # `date` is the local (Paris) calendar date of the day: the month is Paris's month.
    total = (
        Vacation.objects.taken()
        .filter(volunteer=volunteer, date__year=day.year, date__month=day.month)
        .exclude(pk=exclude)
        .aggregate(total=Sum(weight))["total"]
    )
    return total or Decimal("0")


def check_quota(volunteer: Volunteer, vacation: Vacation) -> None:
    taken = days_taken_in_month(volunteer, vacation.date, exclude=vacation.pk)
    if taken + vacation.weight > volunteer.max_days_per_month:
        raise _refuse(
            "quota_exceeded",
            _("This would exceed %(max)s days this month for this volunteer (%(taken)s taken).")
            % {"max": volunteer.max_days_per_month.normalize(), "taken": taken.normalize()},
        )


def _check_can_take(
    volunteer: Volunteer, vacation: Vacation, *, today: Date, yourself: bool = False
) -> None:
    check_eligible(volunteer, today=today, yourself=yourself)
    check_no_overlap(volunteer, vacation)
    check_quota(volunteer, vacation)


def _store_taken(vacation: Vacation, *, by) -> None:
    """Save a vacation that now holds a volunteer's time; PostgreSQL may still refuse it."""
    try:
        with transaction.atomic():
            save_tracked(vacation, by=by)
    except IntegrityError as exc:
        if "vacation_no_overlap_per_volunteer" in str(exc):
            raise _refuse(
                "overlap", _("This volunteer is already expected elsewhere then.")
            ) from exc
        raise


# --- Transitions ---------------------------------------------------------------------------


@transaction.atomic
def vacations_open(
    *, site: HostSite, dates: Iterable[Date], period: str, by, today: Date | None = None
) -> list[Vacation]:
    """Open one vacation per date (e.g. every Tuesday of a month), all or none."""
    today = today or timezone.localdate()
    dates = sorted(set(dates))
    if not dates:
        raise ValidationError({"date": [_("Choose at least one date.")]})
    if dates[0] < today:
        raise ValidationError({"date": [_("A new day cannot be in the past.")]})
    if period not in Period.values:
        raise ValidationError({"period": [_("Unknown period.")]})
    site = _lock_site(site.pk)
    check_site_bookable(site)
    minutes = InfoSheet.objects.values_list("consultation_minutes", flat=True).get(site=site)
    opened = []
    for day in dates:
        check_room_free(site, day, period)
        starts_at, ends_at = slot_bounds(day, period)
        vacation = Vacation(
            site=site, date=day, period=period, starts_at=starts_at, ends_at=ends_at,
            consultation_minutes=minutes, opened_by=by,
        )  # fmt: skip
        save_tracked(vacation, by=by)
        opened.append(vacation)
    return opened


def vacation_open(*, site: HostSite, date: Date, period: str, by, today=None) -> Vacation:
    return vacations_open(site=site, dates=[date], period=period, by=by, today=today)[0]


@transaction.atomic
def vacation_request(
    *,
    vacation: Vacation,
    volunteer: Volunteer,
    now: datetime | None = None,
    accommodation: dict | None = None,
) -> Vacation:
    """A volunteer asks for an open day; the site confirms (book) or declines.
    `accommodation`: `{offer, nights, note}`, nights at the site's accommodation asked with it
    (`vacations.expenses.nights_ask`), confirmed or declined by the site on their own."""
    now = now or timezone.now()
    volunteer = _lock_volunteer(volunteer)
    site = _lock_site(vacation.site_id)
    vacation = _lock_vacation(vacation)
    if vacation.status != Status.OPEN:
        raise _invalid(_("This day is no longer open: someone has just taken it."))
    check_site_bookable(site, opening=False)
    _check_can_take(volunteer, vacation, today=timezone.localdate(now), yourself=True)
    vacation.status = Status.REQUESTED
    vacation.volunteer = volunteer
    vacation.requested_at = now
    _store_taken(vacation, by=volunteer.user)
    if accommodation:
        from vacations.expenses import nights_ask

        nights_ask(
            vacation=vacation,
            offer=accommodation.get("offer"),
            nights=accommodation.get("nights") or [],
            note=accommodation.get("note", ""),
        )
    notify_site_staff(vacation, kind="vacation_requested", now=now)
    return vacation


@transaction.atomic
def vacation_book(
    *,
    vacation: Vacation,
    volunteer: Volunteer,
    by,
    now: datetime | None = None,
    confirming: bool = False,
) -> Vacation:
    """Site staff book a volunteer on an open day, or confirm the volunteer's request
    (`confirming`: only a day still requested by `volunteer`, never one withdrawn since)."""
    if confirming and volunteer is None:
        raise _invalid(_("This day has no request to confirm."))
    if volunteer is None:
        raise ValidationError({"volunteer": [_("Choose the volunteer to book.")]})
    now = now or timezone.now()
    volunteer = _lock_volunteer(volunteer)
    site = _lock_site(vacation.site_id)
    vacation = _lock_vacation(vacation)
    if confirming and vacation.status != Status.REQUESTED:
        raise _invalid(_("This day has no request to confirm."))
    if vacation.status == Status.REQUESTED and vacation.volunteer_id != volunteer.pk:
        raise _invalid(_("This day is requested by another volunteer: decline it first."))
    if vacation.status not in (Status.OPEN, Status.REQUESTED):
        raise _invalid(_("Only an open or requested day can be booked."))
    if vacation.date < timezone.localdate(now):
        raise _invalid(_("This day is in the past."))
    check_site_bookable(site, opening=False)
    _check_can_take(volunteer, vacation, today=timezone.localdate(now))
    vacation.status = Status.BOOKED
    vacation.volunteer = volunteer
    vacation.booked_at = now
    _store_taken(vacation, by=by)
    notify_volunteer(vacation, kind="vacation_booked", now=now)
    return vacation


@transaction.atomic
def vacation_decline(*, vacation: Vacation, by, now: datetime | None = None) -> Vacation:
    now = now or timezone.now()
    vacation = _lock_vacation(vacation)
    if vacation.status != Status.REQUESTED:
        raise _invalid(_("Only a requested day can be declined."))
    volunteer = vacation.volunteer
    _release(vacation, kind=VacationRelease.Kind.DECLINED, by=by, now=now)
    notify_volunteer(
        vacation,
        kind="vacation_declined",
        now=now,
        volunteer=volunteer,
        link=reverse("open_days"),
    )
    return vacation


@transaction.atomic
def vacation_withdraw(
    *, vacation: Vacation, volunteer: Volunteer, now: datetime | None = None
) -> Vacation:
    """The volunteer gives the day back: it opens again for someone else."""
    now = now or timezone.now()
    vacation = _lock_vacation(vacation)
    if vacation.volunteer_id != volunteer.pk or vacation.status not in (
        Status.REQUESTED,
        Status.BOOKED,
    ):
        raise _invalid(_("Only your own requested or booked day can be withdrawn."))
    if vacation.date < timezone.localdate(now):
        raise _invalid(_("This day is in the past."))
    _release(vacation, kind=VacationRelease.Kind.WITHDRAWN, by=volunteer.user, now=now)
    notify_site_staff(vacation, kind="vacation_withdrawn", now=now, volunteer=volunteer)
    return vacation


def _release(vacation: Vacation, *, kind: str, by, now: datetime) -> None:
    from vacations.expenses import nights_drop

    nights_drop(vacation, by=by)
    VacationRelease.objects.create(
        vacation=vacation, volunteer=vacation.volunteer, kind=kind, at=now
    )
    vacation.status = Status.OPEN
    vacation.volunteer = None
    vacation.requested_at = vacation.booked_at = None
    save_tracked(vacation, by=by)


@transaction.atomic
def vacation_cancel(
    *, vacation: Vacation, by, reason: str, now: datetime | None = None
) -> Vacation:
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the day is cancelled.")]})
    vacation = _lock_vacation(vacation)
    if vacation.status not in (Status.OPEN, Status.REQUESTED, Status.BOOKED):
        raise _invalid(_("Only an open, requested or booked day can be cancelled."))
    vacation.status = Status.CANCELLED
    vacation.cancellation_reason = reason.strip()
    vacation.cancelled_at = now
    save_tracked(vacation, by=by)
    if vacation.volunteer_id:
        notify_volunteer(vacation, kind="vacation_cancelled", now=now, link=reverse("my_planning"))
    return vacation


def check_completable(vacation: Vacation, *, consultations_count, now: datetime) -> None:
    """A booked day, on or after its date, with its number of consultations."""
    if consultations_count is None or consultations_count < 0:
        raise ValidationError({"consultations_count": [_("Enter the number of consultations.")]})
    if vacation.status != Status.BOOKED:
        raise _invalid(_("Only a booked day can be completed."))
    if vacation.date > timezone.localdate(now):
        raise _invalid(_("A day can be completed on or after its date."))


@transaction.atomic
def vacation_complete(
    *,
    vacation: Vacation,
    by,
    consultations_count: int,
    no_exams: bool = False,
    now: datetime | None = None,
) -> Vacation:
    """The transition to `done`: the indemnity is fixed now (200 EUR a day, 100 a half-day).

    What else a day needs before it is closed (its exams listed, its handover written) is the
    continuity app's rule: its `day_close` checks it, then calls this (DESIGN.md § Layout).
    """
    now = now or timezone.now()
    vacation = _lock_vacation(vacation)
    check_completable(vacation, consultations_count=consultations_count, now=now)
    vacation.no_exams = bool(no_exams)
    vacation.status = Status.DONE
    vacation.consultations_count = consultations_count
    vacation.indemnity = indemnity_for(vacation.period)
    vacation.done_at = now
    save_tracked(vacation, by=by)
    return vacation


@transaction.atomic
def vacation_no_show(*, vacation: Vacation, by, now: datetime | None = None) -> Vacation:
    now = now or timezone.now()
    vacation = _lock_vacation(vacation)
    if vacation.status != Status.BOOKED:
        raise _invalid(_("Only a booked day can be marked as a no-show."))
    if vacation.date > timezone.localdate(now):
        raise _invalid(_("A no-show can be recorded on or after the day."))
    vacation.status = Status.NO_SHOW
    save_tracked(vacation, by=by)
    return vacation


# --- Notifications at each transition --------------------------------------------------------


def _describe(vacation: Vacation) -> dict[str, object]:
    return {
        "site": str(vacation.site),
        "date": vacation.date.strftime("%d/%m/%Y"),
        # Lazy: each recipient reads it in its own language.
        "period": Period(vacation.period).label,
        "link": reverse("vacation_detail", args=[vacation.pk]),
    }


def notify_volunteer(
    vacation: Vacation,
    *,
    kind: str,
    now: datetime,
    volunteer=None,
    link: str | None = None,
    extra: dict | None = None,
    key: str | None = None,
) -> None:
    """Tell the day's volunteer; `link` when the day's page is no longer theirs to see;
    `extra`: more for the message; `key`: what makes it unique when not the day's transition."""
    volunteer = volunteer or vacation.volunteer
    context = {**_describe(vacation), "reason": vacation.cancellation_reason, **(extra or {})}
    if link:
        context["link"] = link
    notify(
        users=[volunteer.user],
        kind=kind,
        context=context,
        dedupe_key=f"{kind}:{key}" if key else _event_key(kind, vacation, volunteer),
    )


def _event_key(kind: str, vacation: Vacation, volunteer) -> str:
    """What makes the message unique: the transition it tells about, i.e. the history row the
    transition wrote (a volunteer may request the same day again after withdrawing: a new
    row, a new message; telling about one transition twice: one message)."""
    transition = vacation.history.values_list("history_id", flat=True).first()
    return f"{kind}:{vacation.pk}:{volunteer.pk}:{transition}"


def notify_site_staff(vacation: Vacation, *, kind: str, now: datetime, volunteer=None) -> None:
    volunteer = volunteer or vacation.volunteer
    # Its own team, and its pôle mère's for a secondary practice (they run its planning).
    staff = list(vacation.site.team())
    notify(
        users=staff,
        kind=kind,
        context={**_describe(vacation), "volunteer": volunteer.full_name},
        dedupe_key=_event_key(kind, vacation, volunteer),
    )


PREPARATION_FIELDS = ("licence_ready", "cps_access_checked", "previous_handover_read")


@transaction.atomic
def preparation_update(*, vacation: Vacation, by, arrival_time=None, **checks: bool):
    """Tick the checklist of a booked day (site staff or its volunteer), and say when the
    volunteer is expected (`arrival_time`; None: the period's usual time)."""
    unknown = set(checks) - set(PREPARATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown checks: {sorted(unknown)}")
    vacation = _lock_vacation(vacation)
    if vacation.status != Status.BOOKED:
        raise _invalid(_("Only a booked day is prepared."))
    preparation, _created = DayPreparation.objects.get_or_create(vacation=vacation)
    for name, value in checks.items():
        setattr(preparation, name, bool(value))
    preparation.arrival_time = arrival_time
    preparation.updated_by = by
    save_tracked(preparation, by=by)
    return preparation
