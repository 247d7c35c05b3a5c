"""The statement of a territory's month: `draft → validated → paid`, and back to draft.

- `statement_validate`: the territory manager certifies the month's closed days, once the
  month is over; the figures validated are kept on the statement (what the ARS pays);
- `statement_pay`: the ARS records the payment of a validated statement, with its reference;
  refused while the month's figures differ from the validated ones (a day closed late);
- `statement_reopen`: a validated statement goes back to draft (to be validated again).

Who may is asked by the views and the API (`reports.rules`); the services hold the order of
the steps. Each step locks the statement (two clicks, two managers: one wins, the other gets
`invalid_transition`) and is saved through `save_tracked` (its history says who and when).
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from reports.indemnities import territory_figures
from reports.models import Statement
from sites.models import Territory

Status = Statement.Status


def _invalid(message: str) -> DomainError:
    return DomainError("invalid_transition", message)


def statement_for(territory: Territory, month: Date) -> Statement:
    """The statement of `territory` for `month`: its row, or an unsaved draft (a month nobody
    validated has no row)."""
    month = month.replace(day=1)
    found = Statement.objects.filter(territory=territory, month=month).first()
    return found or Statement(territory=territory, month=month)


@transaction.atomic
def statement_validate(
    *, territory: Territory, month: Date, by, now: datetime | None = None
) -> Statement:
    """Validate the closed days of `territory` in `month` (draft → validated)."""
    now = now or timezone.now()
    month = month.replace(day=1)
    if month >= timezone.localdate(now).replace(day=1):
        raise _invalid(_("A month can be validated once it is over."))
    # The territory's row is the lock: the first validation creates the statement, and two
    # concurrent first clicks would otherwise both find no row to lock.
    Territory.objects.select_for_update().filter(pk=territory.pk).first()
    statement = (
        Statement.objects.select_for_update().filter(territory=territory, month=month).first()
    )
    if statement is None:
        statement = Statement(territory=territory, month=month)
    elif statement.status != Status.DRAFT:
        raise _invalid(_("This statement is already validated."))
    days, amount = territory_figures(territory.pk, month)
    if not days:
        raise _invalid(_("No day was closed in this month: there is nothing to validate."))
    statement.status = Status.VALIDATED
    statement.validated_by = by
    statement.validated_at = now
    statement.validated_days = days
    statement.validated_amount = amount
    save_tracked(statement, by=by, reason="validated")
    return statement


def _locked(statement: Statement) -> Statement | None:
    if statement.pk is None:
        return None
    return Statement.objects.select_for_update().select_related("territory").get(pk=statement.pk)


@transaction.atomic
def statement_pay(
    *, statement: Statement, by, reference: str, now: datetime | None = None
) -> Statement:
    """Record the payment of a validated statement (validated → paid)."""
    now = now or timezone.now()
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": [_("Enter the reference of the payment.")]})
    if len(reference) > Statement._meta.get_field("payment_reference").max_length:
        raise ValidationError({"reference": [_("The reference is too long.")]})
    locked = _locked(statement)
    if locked is None or locked.status != Status.VALIDATED:
        raise _invalid(_("Only a validated statement can be paid."))
    days, amount = territory_figures(locked.territory_id, locked.month)
    if (days, amount) != (locked.validated_days, locked.validated_amount):
        raise _invalid(
            _(
                "Days were closed in this month since its validation: the statement must be "
                "sent back to draft and validated again before it is paid."
            )
        )
    locked.status = Status.PAID
    locked.paid_by = by
    locked.paid_at = now
    locked.payment_reference = reference
    save_tracked(locked, by=by, reason="paid")
    return locked


@transaction.atomic
def statement_reopen(*, statement: Statement, by) -> Statement:
    """Send a validated statement back to draft (a paid one stays paid)."""
    locked = _locked(statement)
    if locked is None or locked.status != Status.VALIDATED:
        raise _invalid(_("Only a validated statement can be sent back to draft."))
    locked.status = Status.DRAFT
    locked.validated_by = None
    locked.validated_at = None
    locked.validated_days = None
    locked.validated_amount = None
    save_tracked(locked, by=by, reason="sent back to draft")
    return locked
