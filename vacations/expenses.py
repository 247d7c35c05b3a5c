"""A volunteer's practical needs around a day (issue 13 § 5): its expenses, refunded with the
month's statement beside the indemnities, and the nights it asks at the accommodation the
host commune or EPCI offers through the site.

Rules, each here once (pages and API call these):

- expenses are entered by the day's volunteer on a done day, or a booked one whose date has
  come (`expense_add`, `expense_update`, `expense_delete`);
- travel by car is its kilometres at `settings.RELEVE_KM_RATE` (computed here, stored);
  tickets and accommodation are the amounts paid; money is `Decimal`, never negative;
- one accommodation expense per day (a DB constraint backs it);
- no accommodation expense for a day whose night the site provides (a confirmed night), and a
  night is not confirmed for a day already claimed as paid accommodation;
- once the statement of the day's territory and month is validated (or paid), the day's
  expenses are frozen: `invalid_transition` until a manager sends it back to draft;
- a night is asked with the day request (the night before the day or the night of the day,
  at an offer of the day's site); the site's staff confirm or decline it while the day is
  requested or booked, and the volunteer is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from sites.models import AccommodationOffer
from vacations.models import Expense, NightRequest, Vacation

Status = Vacation.Status
Kind = Expense.Kind
CENT = Decimal("0.01")
# No single expense of a day is worth more (a typing slip of a zero or two is refused).
MAX_AMOUNT = Decimal("5000.00")
MAX_KM = 3000


def _invalid(message: str) -> DomainError:
    return DomainError("invalid_transition", message)


def km_rate() -> Decimal:
    return Decimal(str(settings.RELEVE_KM_RATE))


def car_amount(km: int) -> Decimal:
    """What a car trip of `km` kilometres is refunded."""
    return (Decimal(km) * km_rate()).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Expenses ---------------------------------------------------------------------------------


def statement_of_day(vacation: Vacation):
    """The statement the day's expenses are paid with (its territory and month); an unsaved
    draft when nobody validated the month yet."""
    from reports.models import Statement  # reports sits above vacations

    month = vacation.date.replace(day=1)
    found = Statement.objects.filter(territory_id=vacation.site.territory_id, month=month).first()
    return found or Statement(territory_id=vacation.site.territory_id, month=month)


def check_not_frozen(vacation: Vacation) -> None:
    statement = statement_of_day(vacation)
    if statement.status != statement.Status.DRAFT:
        raise _invalid(
            _(
                "The statement of this month is validated: its expenses can no longer be "
                "changed. Ask the territory manager to send it back to draft."
            )
        )


def may_claim(vacation: Vacation, today: Date) -> bool:
    """A done day, or a booked one whose date has come."""
    return vacation.status == Status.DONE or (
        vacation.status == Status.BOOKED and vacation.date <= today
    )


def site_provides_night(vacation: Vacation) -> bool:
    return vacation.nights.filter(status=NightRequest.Status.CONFIRMED).exists()


def _money(value, field: str) -> Decimal:
    if value is None or value == "":
        raise ValidationError({field: [_("Enter the amount paid, in euros.")]})
    try:
        amount = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise ValidationError({field: [_("Enter an amount in euros, e.g. 42.50.")]}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: [_("An amount cannot be negative.")]})
    if amount > MAX_AMOUNT:
        raise ValidationError(
            {field: [_("An expense of a day is at most %(max)s EUR.") % {"max": MAX_AMOUNT}]}
        )
    if amount != amount.quantize(CENT):
        raise ValidationError({field: [_("Give the amount in euros and cents at most.")]})
    return amount.quantize(CENT)


def _clean(expense: Expense, *, kind, km, amount, ticket_kind, receipt_note) -> None:
    """Fill `expense` from the input, checked field by field (`ValidationError` naming it)."""
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose travel by car, tickets or accommodation.")]})
    expense.kind = kind
    expense.receipt_note = (receipt_note or "").strip()
    if len(expense.receipt_note) > Expense._meta.get_field("receipt_note").max_length:
        raise ValidationError({"receipt_note": [_("The receipt note is too long.")]})
    expense.km = None
    expense.ticket_kind = ""
    if kind == Kind.CAR:
        try:
            km = int(km)
        except (TypeError, ValueError):
            raise ValidationError(
                {"km": [_("Enter the kilometres driven (round trip).")]}
            ) from None
        if km < 0 or km > MAX_KM:
            raise ValidationError({"km": [_("Enter between 0 and %(max)s km.") % {"max": MAX_KM}]})
        expense.km = km
        expense.amount = car_amount(km)
        return
    expense.amount = _money(amount, "amount")
    if kind == Kind.TICKET:
        if ticket_kind not in Expense.TicketKind.values:
            raise ValidationError({"ticket_kind": [_("Choose train, bus or other.")]})
        expense.ticket_kind = ticket_kind


def _lock_day(vacation: Vacation) -> Vacation:
    return Vacation.objects.select_for_update().select_related("site").get(pk=vacation.pk)


def _check_day(vacation: Vacation, expense: Expense, *, by, today: Date) -> None:
    if vacation.volunteer_id is None or vacation.volunteer.user_id != by.pk:
        raise _invalid(_("Only the day's volunteer enters its expenses."))
    if not may_claim(vacation, today):
        raise _invalid(_("Expenses are entered for a day that took place."))
    check_not_frozen(vacation)
    if expense.kind == Kind.ACCOMMODATION:
        if site_provides_night(vacation):
            raise _invalid(
                _("The site provides your accommodation for this day: no accommodation expense.")
            )
        others = vacation.expenses.filter(kind=Kind.ACCOMMODATION).exclude(pk=expense.pk)
        if others.exists():
            raise ValidationError(
                {"kind": [_("This day already has its accommodation expense: change that one.")]}
            )


@transaction.atomic
def expense_add(
    *,
    vacation: Vacation,
    by,
    kind: str,
    km=None,
    amount=None,
    ticket_kind: str = "",
    receipt_note: str = "",
    today: Date | None = None,
) -> Expense:
    vacation = _lock_day(vacation)
    expense = Expense(vacation=vacation)
    _clean(
        expense, kind=kind, km=km, amount=amount, ticket_kind=ticket_kind, receipt_note=receipt_note
    )
    _check_day(vacation, expense, by=by, today=today or timezone.localdate())
    save_tracked(expense, by=by)
    return expense


@transaction.atomic
def expense_update(*, expense: Expense, by, today: Date | None = None, **values) -> Expense:
    """Change an expense (`kind`, `km`, `amount`, `ticket_kind`, `receipt_note`; those not
    given keep their value)."""
    vacation = _lock_day(expense.vacation)
    expense = Expense.objects.get(pk=expense.pk)
    current = {
        "kind": expense.kind,
        "km": expense.km,
        "amount": expense.amount,
        "ticket_kind": expense.ticket_kind,
        "receipt_note": expense.receipt_note,
    }
    unknown = set(values) - set(current)
    if unknown:
        raise TypeError(f"unknown expense fields: {sorted(unknown)}")
    _check_day(vacation, expense, by=by, today=today or timezone.localdate())  # before: frozen?
    _clean(expense, **{**current, **values})
    _check_day(vacation, expense, by=by, today=today or timezone.localdate())
    save_tracked(expense, by=by)
    return expense


@transaction.atomic
def expense_delete(*, expense: Expense, by, today: Date | None = None) -> None:
    vacation = _lock_day(expense.vacation)
    expense = Expense.objects.get(pk=expense.pk)
    _check_day(vacation, Expense(kind=Kind.CAR), by=by, today=today or timezone.localdate())
    expense._history_user = by
    expense.delete()


# --- Nights at the site's accommodation -------------------------------------------------------


def night_choices(vacation: Vacation) -> list[Date]:
    """The nights a day may come with: the night before it (to be there in the morning), and
    the night of the day (to go home the next morning)."""
    return [vacation.date - timedelta(days=1), vacation.date]


def nights_ask(
    *, vacation: Vacation, offer: AccommodationOffer | int, nights: Iterable[Date], note: str = ""
) -> list[NightRequest]:
    """Ask the site for nights with a day request (inside `vacation_request`'s transaction)."""
    offer_id = offer.pk if isinstance(offer, AccommodationOffer) else offer
    found = AccommodationOffer.objects.filter(pk=offer_id, site_id=vacation.site_id).first()
    if found is None:
        raise ValidationError({"accommodation": [_("Choose one of this site's accommodations.")]})
    nights = sorted(set(nights))
    if not nights:
        raise ValidationError({"accommodation": [_("Choose the night (or nights) you need.")]})
    allowed = night_choices(vacation)
    if any(night not in allowed for night in nights):
        raise ValidationError(
            {"accommodation": [_("A night is the one before the day, or the night of the day.")]}
        )
    note = (note or "").strip()
    if len(note) > NightRequest._meta.get_field("note").max_length:
        raise ValidationError({"accommodation": [_("The note is too long.")]})
    asked = []
    for night in nights:
        request = NightRequest(vacation=vacation, offer=found, night=night, note=note)
        save_tracked(request, by=vacation.volunteer.user)
        asked.append(request)
    return asked


def nights_drop(vacation: Vacation, *, by) -> None:
    """The day is no longer the volunteer's (withdrawn, declined): its nights go with it."""
    for night in vacation.nights.all():
        night._history_user = by
        night.delete()


@transaction.atomic
def night_decide(
    *, night: NightRequest, by, confirm: bool, now: datetime | None = None
) -> NightRequest:
    """The site's staff confirm or decline a night asked with a day (requested → confirmed or
    declined); the volunteer is told."""
    from vacations.services import notify_volunteer

    now = now or timezone.now()
    vacation = _lock_day(night.vacation)
    night = NightRequest.objects.select_for_update().get(pk=night.pk)
    if night.status != NightRequest.Status.REQUESTED:
        raise _invalid(_("This night is already answered."))
    if vacation.status not in (Status.REQUESTED, Status.BOOKED, Status.DONE):
        raise _invalid(_("This day is no longer requested nor booked."))
    if confirm and vacation.expenses.filter(kind=Kind.ACCOMMODATION).exists():
        raise _invalid(
            _("The volunteer already paid its accommodation for this day: the night is not needed.")
        )
    night.status = NightRequest.Status.CONFIRMED if confirm else NightRequest.Status.DECLINED
    night.decided_by = by
    night.decided_at = now
    save_tracked(night, by=by)
    notify_volunteer(
        vacation,
        kind="night_confirmed" if confirm else "night_declined",
        now=now,
        extra={"night": night.night.strftime("%d/%m/%Y"), "place": night.offer or ""},
        key=f"night:{night.pk}:{night.status}",
    )
    return night
