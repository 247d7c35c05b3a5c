"""Who signs a territory's monthly statement (issue 11 § money).

- `reports.validate_statement`: the territory manager (CPTS / CLS) of the statement's
  territory certifies the month's closed days;
- `reports.pay_statement`: the ARS manager of its region records the payment;
- `reports.reopen_statement`: either of them sends a validated statement back to draft (a day
  closed late, a mistake seen by the payer).

The national manager reads every statement and signs none; a platform operator (superuser)
neither: a payment is certified by the people who hold these roles, under their own name, and
an operator who must correct one does it as a support case, not as a signatory.

The predicates take a `Territory` (its `department` loaded: the region is read from it) or a
`Statement`. The caller's manager memberships are read once per user object (one query for a
page of fifty statements).
"""

from __future__ import annotations

import rules

from accounts.roles import Role
from sites.models import Territory


def _territory(obj) -> Territory | None:
    if isinstance(obj, Territory):
        return obj
    return getattr(obj, "territory", None)


def _signatory_scopes(user) -> tuple[frozenset, frozenset]:
    """(territories managed as territory manager, regions held as ARS manager)."""
    cached = getattr(user, "_statement_scopes", None)
    if cached is None:
        rows = list(
            user.memberships.filter(
                role__in=[Role.TERRITORY_MANAGER, Role.ARS_MANAGER]
            ).values_list("role", "territory_id", "region_id")
        )
        cached = (
            frozenset(t for role, t, _r in rows if role == Role.TERRITORY_MANAGER and t),
            frozenset(r for role, _t, r in rows if role == Role.ARS_MANAGER and r),
        )
        user._statement_scopes = cached
    return cached


@rules.predicate
def is_statement_territory_manager(user, obj) -> bool:
    territory = _territory(obj)
    if territory is None or not user.is_authenticated:
        return False
    return territory.pk in _signatory_scopes(user)[0]


@rules.predicate
def is_statement_ars_manager(user, obj) -> bool:
    territory = _territory(obj)
    if territory is None or not user.is_authenticated:
        return False
    return territory.department.region_id in _signatory_scopes(user)[1]


rules.add_perm("reports.validate_statement", is_statement_territory_manager)
rules.add_perm("reports.pay_statement", is_statement_ars_manager)
rules.add_perm(
    "reports.reopen_statement", is_statement_territory_manager | is_statement_ars_manager
)
