"""Every route × every role × an object in scope and one out of it: the status each one gets.

The routes come from the URL configuration itself (`get_resolver()`, walked recursively: pages,
API views, router routes and their actions; DRF's `.json`-style format-suffix twins are the same
views and are left out), so a route added without an expectation fails
`test_every_route_has_an_expectation`.

How to add a route's expectation — one entry of `EXPECTED`, keyed by the route as the resolver
spells it (router routes normalised: `api/v1/sites/<pk>/calendar/rotate/`) and the method:

    ("api/v1/sites/<pk>/calendar/rotate/", "POST"): Case(
        "site", IN="401 403 200 200 403 403 403 200", OUT="401 404 404 404 404 404 403 200"
    ),

- the object kind fills the route's parameters (`site`, `day_open`, `exam`, `task`, `token`...,
  see `World.objects`; `-` for a route without one); add a kind to `World` if none fits;
- `IN` is the status of each role, in the order of `ROLES`
  (anonymous, volunteer, secretary, course_nurse, territory_manager, ars_manager,
  national_manager, superuser),
  on the object in the roles' scope (the home site's: its staff work there, its managers manage
  it, the volunteer is booked there); `OUT` on the same kind of object at a site of another
  region (missing means the same as `IN`): outside one's scope is 404, never 403;
- `data` is the body a write sends (default: none — an allowed write then answers its form's or
  serializer's refusal, 200 or 400, which tells it from 403 and 404 without writing anything);
- `api`: the page action the route serves, when both exist (`("vacation_cancel_page", "POST")`):
  `test_pages_and_the_api_give_the_same_answer` then checks they allow and refuse alike.

Every case runs inside a savepoint rolled back afterwards: the world is built once per module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from accounts.services import api_token_create
from continuity import services as continuity
from continuity.models import IncomingResult
from feedback.models import Incident
from sites.models import AccommodationOffer, Membership
from tests.factories import (
    HostSiteFactory,
    MembershipFactory,
    TerritoryFactory,
    UserFactory,
    VolunteerFactory,
    make_sheet,
    open_day,
)
from vacations.models import Expense, NightRequest

ROLES = (
    "anonymous",
    "volunteer",
    "secretary",
    "course_nurse",
    "territory_manager",
    "ars_manager",
    "national_manager",
    "superuser",
)
# Not ours to test here: Django's admin (staff only, its own checks), allauth's sign-in, sign-up
# and MFA pages (public by design), the language switcher, static files in DEBUG.
FOREIGN_PREFIXES = ("admin/", "accounts/", "i18n/", "^static/", "static/")


@dataclass(frozen=True)
class Case:
    kind: str
    IN: str
    OUT: str | None = None
    data: Any = None
    api: tuple[str, str] | None = None  # the page (url name, method) doing the same action
    in_body: bool = False  # the object is named in the body: out of scope, 400 (as if missing)
    only: str | None = None  # costly public routes: the roles run (the others are skipped)

    def statuses(self, scope: str) -> dict[str, int]:
        line = self.IN if scope == "in" or self.OUT is None else self.OUT
        codes = [int(code) for code in line.split()]
        assert len(codes) == len(ROLES), line
        return dict(zip(ROLES, codes, strict=True))


# --- The expectations ------------------------------------------------------------------------
# Pages: 302 for the anonymous is the sign-in redirect. API: 401 for the anonymous.


def _later(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def NEW_SITE(world, _obj):  # noqa: N802 - a constant-like body builder
    return {"name": "Nouveau site", "territory": world.home.site.territory_id}


def NEW_DAY(_world, site):  # noqa: N802
    return {"site": site.pk, "date": _later(40)}


def NEW_EXAM(_world, day):  # noqa: N802
    return {
        "vacation": day.pk, "patient_ref": "P-NEW", "patient_initials": "AB",
        "patient_birth_year": 1960, "kind": "biology", "description": "NFS",
        "order_number": f"NEW-{day.pk}",
    }  # fmt: skip


def NEW_HANDOVER(_world, day):  # noqa: N802
    return {"vacation": day.pk, "text": "RAS"}


def LAST_MONTH(_world, territory):  # noqa: N802 - a statement of last month (nothing closed)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {"territory": territory.pk, "month": month, "reference": "VIR-1"}


EXPECTED: dict[tuple[str, str], Case] = {
    # --- Home, health, inbox
    ("", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("healthz", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    # --- The footer's pages (config/pages.py): public, for every role
    ("mentions-legales/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("donnees-personnelles/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("accessibilite/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("plan-du-site/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("notifications/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("notifications/tout-lu/", "POST"): Case("-", IN="302 302 302 302 302 302 302 302"),
    ("notifications/preferences/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("notifications/preferences/", "POST"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("notifications/<int:pk>/lu/", "POST"): Case(
        "notification", IN="302 302 302 302 302 302 302 302", OUT="302 404 404 404 404 404 404 404"
    ),
    # --- API tokens: one's own only (another user's is 404); a POST without a name is refused
    ("compte/jetons-api/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("compte/jetons-api/", "POST"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("compte/jetons-api/<int:pk>/revoquer/", "POST"): Case(
        "api_token", IN="302 302 302 302 302 302 302 302", OUT="302 404 404 404 404 404 404 404"
    ),
    ("api/v1/auth/tokens/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/auth/tokens/", "POST"): Case("-", IN="401 400 400 400 400 400 400 400"),
    ("api/v1/auth/tokens/<pk>/", "DELETE"): Case(
        "api_token", IN="401 204 204 204 204 204 204 204", OUT="401 404 404 404 404 404 404 404"
    ),
    ("notifications/<int:pk>/ouvrir/", "GET"): Case(
        "notification", IN="302 302 302 302 302 302 302 302", OUT="302 404 404 404 404 404 404 404"
    ),
    # --- Planning (vacations): pages
    ("lieux/<int:pk>/", "GET"): Case("site", IN="200 200 200 200 200 200 200 200"),
    ("sites/<int:site_pk>/planning/", "GET"): Case(
        "site", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("sites/<int:site_pk>/planning/", "POST"): Case(
        "site", IN="302 404 200 403 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("sites/<int:site_pk>/planning/calendrier/nouveau-lien/", "POST"): Case(
        "site", IN="302 404 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("jours/<int:pk>/", "GET"): Case(
        "day_booked", IN="302 200 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("jours/<int:pk>/reserver/", "GET"): Case(
        "day_open", IN="302 403 200 200 403 403 403 200", OUT="302 403 403 403 403 403 403 200"
    ),
    ("jours/<int:pk>/reserver/", "POST"): Case(
        "day_open", IN="302 403 200 200 403 403 403 200", OUT="302 403 403 403 403 403 403 200"
    ),
    ("jours/<int:pk>/confirmer/", "POST"): Case(
        "day_requested", IN="302 403 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("jours/<int:pk>/refuser/", "POST"): Case(
        "day_requested", IN="302 403 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("jours/<int:pk>/annuler/", "POST"): Case(
        "day_booked", IN="302 403 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("jours/<int:pk>/cloturer/", "POST"): Case(
        "day_past", IN="302 200 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("jours/<int:pk>/absence/", "POST"): Case(
        "day_past", IN="302 403 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("jours/<int:pk>/preparation/", "POST"): Case(
        "day_booked", IN="302 302 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("jours/<int:pk>/demander/", "POST"): Case("day_open", IN="302 302 403 403 403 403 403 403"),
    # A day's practical side (issue 13 § 5): its volunteer's expenses (only its own: not
    # even an operator enters them), the nights it asked (the site answers).
    ("jours/<int:pk>/frais/", "POST"): Case(
        "day_past", IN="302 302 403 403 403 403 403 403", OUT="302 404 404 404 404 404 403 403"
    ),
    ("jours/<int:pk>/frais/<int:expense_pk>/supprimer/", "POST"): Case(
        "expense", IN="302 302 403 403 403 403 403 403", OUT="302 404 404 404 404 404 403 403"
    ),
    ("jours/<int:pk>/nuits/<int:night_pk>/reponse/", "POST"): Case(
        "night", IN="302 403 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("jours/<int:pk>/retirer/", "POST"): Case(
        "day_booked", IN="302 302 403 403 403 403 403 403", OUT="302 404 404 404 404 404 403 403"
    ),
    ("mon-planning/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("jours-ouverts/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("couverture/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    # --- Dashboards (reports): pilots only; the place is a query parameter (404 outside the
    # scope: tests/reports)
    ("pilotage/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("pilotage/couverture/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("pilotage/couverture/jours/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("pilotage/preparation/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    # --- Catalogue and sites: pages
    ("lieux/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("lieux/<int:pk>/fiche.pdf", "GET"): Case("site", IN="200 200 200 200 200 200 200 200"),
    ("territoires/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("sites/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("sites/nouveau/", "GET"): Case("-", IN="302 403 403 403 200 200 403 200"),
    ("sites/nouveau/", "POST"): Case("-", IN="302 403 403 403 200 200 403 200"),
    ("sites/<int:pk>/", "GET"): Case(
        "site", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("sites/<int:pk>/historique/", "GET"): Case(
        "site", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("sites/<int:pk>/fiche/<slug:section>/", "POST"): Case(
        "site", IN="302 404 302 302 302 302 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("sites/<int:pk>/fiche/<slug:section>/modifier/", "GET"): Case(
        "site", IN="302 404 302 302 302 302 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("sites/<int:pk>/soumettre/", "POST"): Case(
        "site", IN="302 404 302 302 403 403 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("sites/<int:pk>/publier/", "POST"): Case(
        "site", IN="302 404 403 403 302 302 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("sites/<int:pk>/renvoyer/", "POST"): Case(
        "site", IN="302 404 403 403 302 302 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("sites/<int:pk>/modifications/", "GET"): Case(
        "site", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    # --- Volunteers: pages
    ("volontaire/profil/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("volontaire/profil/", "POST"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("volontaire/engagement/", "GET"): Case("-", IN="302 200 302 302 302 302 302 302"),
    ("volontaire/engagement/", "POST"): Case("-", IN="302 200 302 302 302 302 302 302"),
    ("volontaire/disponibilites/", "GET"): Case("-", IN="302 200 302 302 302 302 302 302"),
    ("volontaire/disponibilites/", "POST"): Case("-", IN="302 200 302 302 302 302 302 302"),
    ("volontaire/calendrier/nouveau-lien/", "POST"): Case(
        "-", IN="302 302 404 404 404 404 404 404"
    ),
    # One's own statement (last month by default); no volunteer profile: 404, as the API.
    ("volontaire/releve/", "GET"): Case("-", IN="302 200 404 404 404 404 404 404"),
    ("volontaire/releve/pdf/", "GET"): Case("-", IN="302 200 404 404 404 404 404 404"),
    ("volontaires/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("volontaires/<int:pk>/", "GET"): Case(
        "volunteer", IN="302 200 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("volontaires/<int:pk>/verifier/", "POST"): Case(
        "volunteer", IN="302 403 403 403 200 200 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("volontaires/<int:pk>/jours-par-mois/", "POST"): Case(
        "volunteer", IN="302 403 403 403 200 200 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    # --- Continuity of care: pages
    ("suivi/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("suivi/taches/<int:pk>/", "GET"): Case(
        "task", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("suivi/taches/<int:pk>/commencer/", "POST"): Case(
        "task", IN="302 404 302 302 302 302 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("suivi/taches/<int:pk>/terminer/", "POST"): Case(
        "task", IN="302 404 302 302 302 302 403 302", OUT="302 404 404 404 404 404 403 302"
    ),
    ("suivi/taches/<int:pk>/question/", "POST"): Case(
        "task", IN="302 404 200 200 200 200 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/examens/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("suivi/examens/<int:pk>/", "GET"): Case(
        "exam", IN="302 200 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("suivi/examens/<int:pk>/resultat/", "POST"): Case(
        "exam", IN="302 403 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/examens/<int:pk>/cloturer/", "POST"): Case(
        "exam_received", IN="302 403 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/examens/<int:pk>/etapes/<slug:leg>/", "POST"): Case(
        "exam_received", IN="302 403 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    # The liaison letter (PDF): the site's staff and the prescriber; managers see the exam only.
    ("suivi/examens/<int:pk>/courrier/", "GET"): Case(
        "exam_letter", IN="302 200 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/examens/<int:pk>/annuler/", "POST"): Case(
        "exam", IN="302 403 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/quarantaine/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("suivi/quarantaine/<int:pk>/associer/", "POST"): Case(
        "incoming", IN="302 404 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/quarantaine/<int:pk>/ecarter/", "POST"): Case(
        "incoming", IN="302 404 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    # A result's raw message: who reads the message (the API's results/<pk>) reads its bytes.
    ("suivi/resultats/<int:pk>/message/", "GET"): Case(
        "incoming", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("suivi/mes-suivis/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("suivi/questions/<int:pk>/repondre/", "POST"): Case(
        "contact", IN="302 200 403 403 403 403 403 403", OUT="302 404 404 404 404 404 403 403"
    ),
    ("suivi/journees/<int:vacation_pk>/cloture/", "GET"): Case(
        "day_past", IN="302 200 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/journees/<int:vacation_pk>/cloture/", "POST"): Case(
        "day_past", IN="302 200 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("suivi/transmissions/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("suivi/transmissions/<int:pk>/", "GET"): Case(
        "handover", IN="302 200 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    # --- Reports: indemnities (pilots read; the territory manager validates, the ARS pays)
    ("pilotage/indemnites/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("pilotage/indemnites/jours/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("pilotage/indemnites/territoires/<int:pk>/valider/", "POST"): Case(
        "territory", IN="302 403 403 403 302 403 403 403", OUT="302 403 403 403 404 404 403 403"
    ),
    ("pilotage/indemnites/territoires/<int:pk>/rouvrir/", "POST"): Case(
        "territory", IN="302 403 403 403 302 302 403 403", OUT="302 403 403 403 404 404 403 403"
    ),
    ("pilotage/indemnites/territoires/<int:pk>/payer/", "POST"): Case(
        "territory", IN="302 403 403 403 403 302 403 403", OUT="302 403 403 403 404 404 403 403"
    ),
    ("api/v1/reports/indemnities/", "GET"): Case("-", IN="401 403 403 403 200 200 200 200"),
    ("api/v1/reports/indemnities/validate/", "POST"): Case(
        "territory",
        IN="401 403 403 403 409 403 403 403",
        OUT="401 403 403 403 404 404 403 403",
        data=LAST_MONTH,
        api=("statement_validate", "POST"),
    ),
    ("api/v1/reports/indemnities/reopen/", "POST"): Case(
        "territory",
        IN="401 403 403 403 409 409 403 403",
        OUT="401 403 403 403 404 404 403 403",
        data=LAST_MONTH,
        api=("statement_reopen", "POST"),
    ),
    ("api/v1/reports/indemnities/pay/", "POST"): Case(
        "territory",
        IN="401 403 403 403 403 409 403 403",
        OUT="401 403 403 403 404 404 403 403",
        data=LAST_MONTH,
        api=("statement_pay", "POST"),
    ),
    # --- API
    ("api/v1/auth/token/", "POST"): Case("-", IN="400 400 400 400 400 400 400 400"),
    ("api/v1/me/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/volunteers/me/statement/", "GET"): Case("-", IN="401 400 404 404 404 404 404 404"),
    ("api/v1/volunteers/me/statement/pdf/", "GET"): Case("-", IN="401 400 404 404 404 404 404 404"),
    ("api/v1/results/hl7/", "POST"): Case("-", IN="401 403 422 422 422 422 403 422"),
    ("api/v1/results/fhir/", "POST"): Case("-", IN="401 403 422 422 422 422 403 422"),
    ("api/v1/reports/coverage/", "GET"): Case("-", IN="401 403 403 403 200 200 200 200"),
    ("api/v1/schema/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200", only="anonymous"),
    ("api/v1/docs/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200", only="anonymous"),
    ("api/v1/regions/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("api/v1/regions/<code>/", "GET"): Case("region", IN="200 200 200 200 200 200 200 200"),
    ("api/v1/territories/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/territories/<pk>/", "GET"): Case("territory", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/sites/", "GET"): Case("-", IN="200 200 200 200 200 200 200 200"),
    ("api/v1/sites/", "POST"): Case(
        "-", IN="401 403 403 403 201 201 403 201", data=NEW_SITE, api=("site_create", "POST")
    ),
    ("api/v1/sites/<pk>/", "GET"): Case("site", IN="200 200 200 200 200 200 200 200"),
    ("api/v1/sites/<pk>/", "PUT"): Case(
        "site", IN="401 404 400 400 400 400 403 400", OUT="401 404 404 404 404 404 403 400"
    ),
    ("api/v1/sites/<pk>/", "PATCH"): Case(
        "site", IN="401 404 200 200 200 200 403 200", OUT="401 404 404 404 404 404 403 200"
    ),
    ("api/v1/sites/<pk>/info-sheet/", "GET"): Case("site", IN="200 200 200 200 200 200 200 200"),
    ("api/v1/sites/<pk>/info-sheet/", "PUT"): Case(
        "site", IN="401 404 200 200 200 200 403 200", OUT="401 404 404 404 404 404 403 200"
    ),
    ("api/v1/sites/<pk>/info-sheet/", "PATCH"): Case(
        "site",
        IN="401 404 200 200 200 200 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("site_section", "POST"),
    ),
    ("api/v1/sites/<pk>/info-sheet/pdf/", "GET"): Case(
        "site", IN="200 200 200 200 200 200 200 200"
    ),
    ("api/v1/sites/<pk>/info-sheet/publish/", "POST"): Case(
        "site",
        IN="401 404 403 403 409 409 403 409",
        OUT="401 404 404 404 404 404 403 409",
        api=("site_sheet_publish", "POST"),
    ),
    ("api/v1/sites/<pk>/info-sheet/return/", "POST"): Case(
        "site",
        IN="401 404 403 403 409 409 403 409",
        OUT="401 404 404 404 404 404 403 409",
        api=("site_sheet_return", "POST"),
    ),
    ("api/v1/sites/<pk>/info-sheet/submit/", "POST"): Case(
        "site",
        IN="401 404 409 409 403 403 403 409",
        OUT="401 404 404 404 404 404 403 409",
        api=("site_sheet_submit", "POST"),
    ),
    ("api/v1/volunteers/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/volunteers/", "POST"): Case("-", IN="401 400 400 400 400 400 400 400"),
    ("api/v1/volunteers/me/availability/", "GET"): Case("-", IN="401 200 404 404 404 404 404 404"),
    ("api/v1/volunteers/me/availability/", "POST"): Case("-", IN="401 400 404 404 404 404 404 404"),
    ("api/v1/sites/<pk>/calendar/", "GET"): Case(
        "site", IN="401 404 200 200 403 403 403 200", OUT="401 404 404 404 404 404 403 200"
    ),
    ("api/v1/sites/<pk>/calendar/rotate/", "POST"): Case(
        "site",
        IN="401 404 200 200 403 403 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("site_calendar_rotate", "POST"),
    ),
    ("api/v1/volunteers/me/calendar/", "GET"): Case("-", IN="401 200 404 404 404 404 404 404"),
    ("api/v1/volunteers/me/calendar/rotate/", "POST"): Case(
        "-", IN="401 200 404 404 404 404 404 404", api=("volunteer_calendar_rotate", "POST")
    ),
    ("api/v1/volunteers/me/commitment/", "POST"): Case("-", IN="401 400 404 404 404 404 404 404"),
    ("api/v1/volunteers/me/", "GET"): Case("-", IN="401 200 404 404 404 404 404 404"),
    ("api/v1/volunteers/me/", "PATCH"): Case("-", IN="401 200 404 404 404 404 404 404"),
    ("api/v1/volunteers/<pk>/", "GET"): Case(
        "volunteer",
        IN="401 200 200 200 200 200 200 200",
        OUT="401 404 404 404 404 404 200 200",
        api=("volunteer_detail", "GET"),
    ),
    ("api/v1/volunteers/<pk>/", "PUT"): Case("volunteer", IN="401 405 405 405 405 405 405 405"),
    ("api/v1/volunteers/<pk>/", "PATCH"): Case(
        "volunteer", IN="401 200 403 403 200 200 403 200", OUT="401 404 404 404 404 404 403 200"
    ),
    ("api/v1/volunteers/<pk>/verify/", "POST"): Case(
        "volunteer",
        IN="401 403 403 403 400 400 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("volunteer_verify", "POST"),
    ),
    ("api/v1/vacations/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/vacations/", "POST"): Case(
        "site",
        IN="401 400 201 403 403 403 403 201",
        OUT="401 400 400 400 400 400 403 201",
        data=NEW_DAY,
        in_body=True,
        api=("site_planning", "POST"),
    ),
    ("api/v1/vacations/<pk>/", "GET"): Case(
        "day_booked",
        IN="401 200 200 200 200 200 200 200",
        OUT="401 404 404 404 404 404 200 200",
        api=("vacation_detail", "GET"),
    ),
    ("api/v1/vacations/<pk>/book/", "POST"): Case(
        "day_open",
        IN="401 403 400 400 403 403 403 400",
        OUT="401 403 403 403 403 403 403 400",
        api=("vacation_book_page", "POST"),
    ),
    ("api/v1/vacations/<pk>/cancel/", "POST"): Case(
        "day_booked",
        IN="401 403 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("vacation_cancel_page", "POST"),
    ),
    ("api/v1/vacations/<pk>/complete/", "POST"): Case(
        "day_past",
        IN="401 400 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("vacation_complete_page", "POST"),
    ),
    ("api/v1/vacations/<pk>/decline/", "POST"): Case(
        "day_requested",
        IN="401 403 200 200 403 403 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("vacation_decline_page", "POST"),
    ),
    ("api/v1/vacations/<pk>/no-show/", "POST"): Case(
        "day_past",
        IN="401 403 200 200 403 403 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("vacation_no_show_page", "POST"),
    ),
    ("api/v1/vacations/<pk>/request/", "POST"): Case(
        "day_open", IN="401 409 403 403 403 403 403 403", api=("vacation_request_page", "POST")
    ),
    ("api/v1/vacations/<pk>/expenses/", "GET"): Case(
        "day_past", IN="401 200 200 200 200 200 200 200", OUT="401 404 404 404 404 404 200 200"
    ),
    ("api/v1/vacations/<pk>/expenses/", "POST"): Case(
        "day_past", IN="401 400 403 403 403 403 403 403", OUT="401 404 404 404 404 404 403 403"
    ),
    ("api/v1/vacations/<pk>/expenses/<expense_id>/", "PATCH"): Case(
        "expense", IN="401 200 403 403 403 403 403 403", OUT="401 404 404 404 404 404 403 403"
    ),
    ("api/v1/vacations/<pk>/expenses/<expense_id>/", "DELETE"): Case(
        "expense", IN="401 204 403 403 403 403 403 403", OUT="401 404 404 404 404 404 403 403"
    ),
    ("api/v1/vacations/<pk>/nights/", "GET"): Case(
        "night", IN="401 200 200 200 200 200 200 200", OUT="401 404 404 404 404 404 200 200"
    ),
    ("api/v1/vacations/<pk>/nights/<night_id>/confirm/", "POST"): Case(
        "night", IN="401 403 200 200 403 403 403 200", OUT="401 404 404 404 404 404 403 200"
    ),
    ("api/v1/vacations/<pk>/nights/<night_id>/decline/", "POST"): Case(
        "night", IN="401 403 200 200 403 403 403 200", OUT="401 404 404 404 404 404 403 200"
    ),
    ("api/v1/vacations/<pk>/withdraw/", "POST"): Case(
        "day_booked",
        IN="401 200 403 403 403 403 403 403",
        OUT="401 404 404 404 404 404 403 403",
        api=("vacation_withdraw_page", "POST"),
    ),
    ("api/v1/exams/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/exams/", "POST"): Case(
        "day_past",
        IN="401 201 201 201 403 403 403 201",
        OUT="401 400 400 400 400 400 403 201",
        data=NEW_EXAM,
        in_body=True,
        api=("continuity_day_closure", "POST"),
    ),
    ("api/v1/exams/<pk>/", "GET"): Case(
        "exam",
        IN="401 200 200 200 200 200 200 200",
        OUT="401 404 404 404 404 404 200 200",
        api=("continuity_exam", "GET"),
    ),
    ("api/v1/exams/<pk>/cancel/", "POST"): Case(
        "exam",
        IN="401 403 200 200 403 403 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("continuity_exam_cancel", "POST"),
    ),
    ("api/v1/exams/<pk>/close/", "POST"): Case(
        "exam_received",
        IN="401 403 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("continuity_exam_close", "POST"),
    ),
    ("api/v1/exams/<pk>/legs/<leg>/", "POST"): Case(
        "exam_received",
        IN="401 403 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("continuity_exam_leg", "POST"),
    ),
    ("api/v1/exams/<pk>/letter/", "GET"): Case(
        "exam_letter",
        IN="401 200 200 200 403 403 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("continuity_exam_letter", "GET"),
    ),
    ("api/v1/exams/<pk>/receive/", "POST"): Case(
        "exam",
        IN="401 403 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("continuity_exam_receive", "POST"),
    ),
    ("api/v1/results/quarantine/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/results/quarantine/<pk>/", "GET"): Case(
        "incoming", IN="401 404 200 200 200 200 200 200", OUT="401 404 404 404 404 404 200 200"
    ),
    ("api/v1/results/quarantine/<pk>/dismiss/", "POST"): Case(
        "incoming",
        IN="401 404 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("continuity_quarantine_dismiss", "POST"),
    ),
    ("api/v1/results/quarantine/<pk>/match/", "POST"): Case(
        "incoming",
        IN="401 404 400 400 403 403 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("continuity_quarantine_match", "POST"),
    ),
    ("api/v1/results/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/results/<pk>/", "GET"): Case(
        "incoming", IN="401 404 200 200 200 200 200 200", OUT="401 404 404 404 404 404 200 200"
    ),
    ("api/v1/tasks/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/tasks/<pk>/", "GET"): Case(
        "task",
        IN="401 404 200 200 200 200 200 200",
        OUT="401 404 404 404 404 404 200 200",
        api=("continuity_task", "GET"),
    ),
    ("api/v1/tasks/<pk>/contact-prescriber/", "POST"): Case(
        "task",
        IN="401 404 400 400 400 400 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("continuity_task_contact", "POST"),
    ),
    ("api/v1/tasks/<pk>/done/", "POST"): Case(
        "task",
        IN="401 404 200 200 200 200 403 200",
        OUT="401 404 404 404 404 404 403 200",
        api=("continuity_task_done", "POST"),
    ),
    ("api/v1/tasks/<pk>/start/", "POST"): Case(
        "task",
        IN="401 404 409 409 409 409 403 409",
        OUT="401 404 404 404 404 404 403 409",
        api=("continuity_task_start", "POST"),
    ),
    ("api/v1/contact-requests/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/contact-requests/<pk>/", "GET"): Case(
        "contact", IN="401 200 200 200 200 200 200 200", OUT="401 404 404 404 404 404 200 200"
    ),
    ("api/v1/contact-requests/<pk>/answer/", "POST"): Case(
        "contact",
        IN="401 400 403 403 403 403 403 403",
        OUT="401 404 404 404 404 404 403 403",
        api=("continuity_contact_answer", "POST"),
    ),
    ("api/v1/handovers/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/handovers/", "POST"): Case(
        "day_past",
        IN="401 201 201 201 403 403 403 201",
        OUT="401 400 400 400 400 400 403 201",
        data=NEW_HANDOVER,
        in_body=True,
        api=("continuity_day_closure", "POST"),
    ),
    ("api/v1/handovers/<pk>/", "GET"): Case(
        "handover",
        IN="401 200 200 200 200 200 200 200",
        OUT="401 404 404 404 404 404 200 200",
        api=("continuity_handover", "GET"),
    ),
    ("api/v1/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    # --- Reports (pilotage): the pilots read their scope (outside it, a 404: tests/reports)
    ("pilotage/suivi/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("api/v1/reports/continuity/", "GET"): Case("-", IN="401 403 403 403 200 200 200 200"),
    # --- Feedback and incidents (feedback app): a day's volunteer and its site's staff give
    # feedback (the day here is booked, not done: the form says so) and report; the site's
    # staff and managers follow an incident; the managers read the answers.
    ("jours/<int:pk>/retour/", "GET"): Case(
        "day_past", IN="302 200 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("jours/<int:pk>/retour/", "POST"): Case(
        "day_past", IN="302 400 400 400 403 403 403 400", OUT="302 404 404 404 404 404 403 400"
    ),
    ("jours/<int:pk>/incident/", "GET"): Case(
        "day_past", IN="302 200 200 200 403 403 403 200", OUT="302 404 404 404 404 404 403 200"
    ),
    ("jours/<int:pk>/incident/", "POST"): Case(
        "day_past", IN="302 400 400 400 403 403 403 400", OUT="302 404 404 404 404 404 403 400"
    ),
    ("incidents/", "GET"): Case("-", IN="302 200 200 200 200 200 200 200"),
    ("incidents/<int:pk>/", "GET"): Case(
        "incident", IN="302 200 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("incidents/<int:pk>/statut/", "POST"): Case(
        "incident", IN="302 403 400 400 400 400 403 400", OUT="302 404 404 404 404 404 403 400"
    ),
    ("pilotage/retours/", "GET"): Case("-", IN="302 403 403 403 200 200 200 200"),
    ("sites/<int:site_pk>/retours/", "GET"): Case(
        "site", IN="302 404 200 200 200 200 200 200", OUT="302 404 404 404 404 404 200 200"
    ),
    ("api/v1/feedback/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/feedback/", "POST"): Case("-", IN="401 400 400 400 400 400 400 400"),
    ("api/v1/incidents/", "GET"): Case("-", IN="401 200 200 200 200 200 200 200"),
    ("api/v1/incidents/", "POST"): Case("-", IN="401 400 400 400 400 400 400 400"),
    ("api/v1/incidents/<pk>/", "GET"): Case(
        "incident", IN="401 200 200 200 200 200 200 200", OUT="401 404 404 404 404 404 200 200"
    ),
    ("api/v1/incidents/<pk>/status/", "POST"): Case(
        "incident",
        IN="401 403 400 400 400 400 403 400",
        OUT="401 404 404 404 404 404 403 400",
        api=("incident_status", "POST"),
    ),
    # --- Calendar feeds: the token is the authorization (another site's is as valid)
    ("calendar/<str:token>.ics", "GET"): Case(
        "volunteer_feed", IN="200 200 200 200 200 200 200 200"
    ),
    ("calendar/site/<str:token>.ics", "GET"): Case(
        "site_feed", IN="200 200 200 200 200 200 200 200"
    ),
}

# --- The world: two public sites in two regions, each with its team, volunteer and follow-up -


@dataclass
class Place:
    site: Any
    secretary: Any
    nurse: Any
    volunteer: Any
    objects: dict[str, Any] = field(default_factory=dict)


def _place(territory, *, volunteer, secretary=None, nurse=None) -> Place:
    site = HostSiteFactory(territory=territory)
    make_sheet(site, status="published", ready=True)
    secretary = secretary or UserFactory()
    nurse = nurse or UserFactory()
    Membership.objects.create(user=secretary, role=Role.SECRETARY, site=site)
    Membership.objects.create(user=nurse, role=Role.COURSE_NURSE, site=site)
    today, now = timezone.localdate(), timezone.now()
    past = open_day(site, today - timedelta(days=1), status="booked", volunteer=volunteer)
    rows = [
        {"patient_ref": f"P-{site.pk}-{n}", "patient_initials": "JD", "patient_birth_year": 1958,
         "kind": "biology", "description": "Ionogramme", "order_number": f"CMD-{site.pk}-{n}"}
        for n in (1, 2, 3)
    ]  # fmt: skip
    awaiting, received, lettered = continuity.exams_record(
        vacation=past, by=volunteer.user, rows=rows
    )
    continuity.exam_receive(exam=received, by=nurse, abnormal=True, now=now)
    # Closed, its patient's treating doctor elsewhere: it has a liaison letter.
    continuity.exam_receive(exam=lettered, by=nurse, abnormal=False, now=now)
    continuity.exam_close(
        exam=lettered, by=nurse, responsible="volunteer", treating_doctor_status="elsewhere",
        dmp_deposited=True, sent_to_patient_space=True, sent_to_prescriber=True, now=now,
    )  # fmt: skip
    task = received.tasks.get()
    contact = continuity.contact_prescriber(task=task, by=nurse, question="On refait ?", now=now)
    handover = continuity.handover_write(
        vacation=past, by=volunteer.user, text="RAS", patient_refs=[]
    )
    incoming = IncomingResult.objects.create(
        format="hl7v2", raw=b"MSH|^~\\&|", site=site, outcome="quarantined",
        reason="unknown_order", order_number="NOPE",
    )  # fmt: skip
    incident = Incident.objects.create(
        vacation=past, site=site, kind="equipment", severity="minor", what_happened="ECG en panne",
        patient_ref="P-1", reported_by=volunteer.user,
    )  # fmt: skip
    place = Place(site, secretary, nurse, volunteer)
    place.objects = {
        "site": site,
        "day_open": open_day(site, today + timedelta(days=20)),
        "day_requested": open_day(
            site, today + timedelta(days=21), status="requested", volunteer=volunteer
        ),
        "day_booked": open_day(
            site, today + timedelta(days=22), status="booked", volunteer=volunteer
        ),
        "day_past": past,
        "exam": awaiting,
        "exam_received": received,
        "exam_letter": lettered,
        "task": task,
        "contact": contact,
        "handover": handover,
        "incoming": incoming,
        "incident": incident,
        "volunteer": volunteer,
        "territory": territory,
        "region": territory.department.region,
        "site_feed": site,
        "volunteer_feed": volunteer,
        # A day's practical side: an expense of the past day, a night asked with a request.
        "expense": Expense.objects.create(
            vacation=past, kind="ticket", ticket_kind="bus", amount=Decimal("8.00")
        ),
        "night": NightRequest.objects.create(
            vacation=open_day(
                site, today + timedelta(days=23), status="requested", volunteer=volunteer
            ),
            offer=AccommodationOffer.objects.create(
                site=site,
                kind="flat",
                offered_by="epci",
                address="1 place de la Mairie",
                contact_name="Mairie",
                contact_phone="0248000000",
            ),
            night=today + timedelta(days=23),
        ),  # fmt: skip
    }
    return place


class World:
    """Home: the roles' site (its staff, managers, the volunteer booked there). Away: a site
    of another region, its own team and volunteer, outside every role's scope."""

    def __init__(self) -> None:
        home_territory = TerritoryFactory(department_id="18")  # Centre-Val de Loire (24)
        away_territory = TerritoryFactory(department_id="12")  # Occitanie (76)
        volunteer = VolunteerFactory(territories=[home_territory])
        self.users = {
            "anonymous": None,
            "volunteer": volunteer.user,
            "secretary": UserFactory(),
            "course_nurse": UserFactory(),
            "territory_manager": MembershipFactory(
                role=Role.TERRITORY_MANAGER, territory=home_territory
            ).user,
            "ars_manager": MembershipFactory(role=Role.ARS_MANAGER, region_id="24").user,
            "national_manager": MembershipFactory(role=Role.NATIONAL_MANAGER).user,
            "superuser": UserFactory(is_superuser=True, is_staff=True),
        }
        self.home = _place(
            home_territory,
            volunteer=volunteer,
            secretary=self.users["secretary"],
            nurse=self.users["course_nurse"],
        )
        away_volunteer = VolunteerFactory(territories=[away_territory], home_department_id="12")
        self.away = _place(away_territory, volunteer=away_volunteer)
        self.notifications = {
            user.pk: Notification.objects.create(
                recipient=user, kind="test", subject="Test", body="Test", dedupe_key=f"t:{user.pk}"
            )
            for user in [*self.users.values(), away_volunteer.user]
            if user is not None
        }
        self.stranger_notification = self.notifications[away_volunteer.user.pk]
        # API tokens: each role's own; the stranger's is out of everyone's reach.
        self.api_tokens = {
            user.pk: api_token_create(user=user, name="route test")[0]
            for user in [*self.users.values(), away_volunteer.user]
            if user is not None
        }
        self.stranger_api_token = self.api_tokens[away_volunteer.user.pk]

    def object(self, kind: str, scope: str, role: str):
        if kind == "api_token":
            user = self.users[role]
            if scope == "out" or user is None:
                return self.stranger_api_token
            return self.api_tokens[user.pk]
        if kind == "notification":
            user = self.users[role]
            if scope == "out" or user is None:
                return self.stranger_notification
            return self.notifications[user.pk]
        place = self.home if scope == "in" else self.away
        return place.objects[kind]


def _value(param: str, obj) -> str:
    if isinstance(obj, Expense | NightRequest):  # a day's row: the day, then the row
        return str(obj.vacation_id) if param == "pk" else str(obj.pk)
    if param == "code":
        return obj.code
    if param == "section":
        return "team"
    if param == "leg":
        return "dmp"
    if param == "token":
        return obj.token if hasattr(obj, "token") else obj.calendar_token
    return str(obj.pk)


# --- The routes ------------------------------------------------------------------------------

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _normalise(pattern: str) -> str:
    """`api/v1/^sites/(?P<pk>[^/.]+)/$` → `api/v1/sites/<pk>/`; `jours/<int:pk>/` stays."""
    return _GROUP.sub(r"<\1>", pattern.replace("^", "").replace("$", "").replace("\\", ""))


def _methods(callback) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a router route: its HTTP methods are the actions it maps
        return {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return {
            method.upper()
            for method in ("get", "post", "put", "patch", "delete")
            if hasattr(view_class, method)
        }
    return set()  # a function view: the table says which methods it serves


def _walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern, entry


def routes() -> dict[str, set[str]]:
    """Every route we serve (first one wins, as in resolving), with the methods its class
    declares (empty for a function view)."""
    found: dict[str, set[str]] = {}
    for pattern, entry in _walk(get_resolver()):
        if pattern.startswith(FOREIGN_PREFIXES) or "format" in pattern:
            continue
        found.setdefault(_normalise(pattern), _methods(entry.callback))
    return found


def _url(route: str, obj) -> str:
    return "/" + _CONVERTER.sub(lambda m: _value(m[1], obj), route)


def _call(client: Client, method: str, url: str, case: Case, obj, world: World):
    data = case.data(world, obj) if callable(case.data) else case.data
    if method == "GET":
        return client.get(url)
    send = getattr(client, method.lower())
    if url.startswith("/api/"):
        return send(url, data or {}, content_type="application/json")
    if method == "POST":
        return client.post(url, data or {})
    return send(url, data or "")


def _clients(world: World) -> dict[str, Client]:
    clients = {}
    for role, user in world.users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients[role] = client
    return clients


def run(world: World, clients, route: str, method: str, case: Case, scope: str, role: str) -> int:
    obj = None if case.kind == "-" else world.object(case.kind, scope, role)
    with transaction.atomic():
        response = _call(clients[role], method, _url(route, obj), case, obj, world)
        transaction.set_rollback(True)
    return response.status_code


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module, in a transaction rolled back when the module ends. The
    sheet's PDF is not drawn (WeasyPrint takes a second a page): who may have it is the
    question here, tests/sites/test_pdf.py looks at the document."""
    with (
        django_db_blocker.unblock(),
        mock.patch("sites.views.catalogue.render_sheet_pdf", return_value=b"%PDF-"),
        mock.patch("sites.pdf.render_sheet_pdf", return_value=b"%PDF-"),
        mock.patch("continuity.letter.render_pdf", return_value=b"%PDF-"),
        transaction.atomic(),
    ):
        built = World()
        yield built, _clients(built)
        transaction.set_rollback(True)


# --- The tests -------------------------------------------------------------------------------


def test_every_route_has_an_expectation():
    served = routes()
    missing = []
    for route, methods in served.items():
        expected = {method for (r, method) in EXPECTED if r == route}
        if not expected:
            missing.append(f"{route} (no method at all)")
        missing.extend(f"{route} {method}" for method in sorted(methods - expected))
    stale = sorted({route for route, _method in EXPECTED} - set(served))
    assert missing == [], "routes without an expectation in EXPECTED"
    assert stale == [], "expectations for routes that no longer exist"


def _cases():
    for (route, method), case in EXPECTED.items():
        scopes = ("in",) if case.kind == "-" else ("in", "out")
        for scope in scopes:
            yield route, method, case, scope


def test_every_route_answers_each_role_as_expected(world, db):
    built, clients = world
    wrong = []
    for route, method, case, scope in _cases():
        expected = case.statuses(scope)
        for role in case.only.split() if case.only else ROLES:
            status = run(built, clients, route, method, case, scope, role)
            if status != expected[role]:
                wrong.append(f"{method} {route} [{scope}] {role}: {status} != {expected[role]}")
    assert wrong == []


def _answer(status: int, *, api: bool, in_body: bool = False) -> str:
    """What a status says about the permission: the caller may act (whatever its body is
    worth), is refused (403), or does not see the object (404)."""
    if status == 404 or (api and in_body and status == 400):
        return "not found"
    if status == 403:
        return "refused"
    return "allowed"


def _page_route(url_name: str) -> str:
    for route in routes():
        for pattern, entry in _walk(get_resolver()):
            if entry.name == url_name and _normalise(pattern) == route:
                return route
    raise LookupError(url_name)


def test_pages_and_the_api_give_the_same_answer():
    """For each API action that a page also serves, both say the same to every signed-in role,
    in scope and out of it (from the table: the table itself is checked against the server by
    the test above)."""
    differ = []
    for (route, _method), case in EXPECTED.items():
        if case.api is None:
            continue
        page = EXPECTED[(_page_route(case.api[0]), case.api[1])]
        assert page.kind == case.kind or case.kind == "-", (route, case.api)
        for scope in ("in",) if case.kind == "-" else ("in", "out"):
            for role in ROLES[1:]:
                by_api = _answer(case.statuses(scope)[role], api=True, in_body=case.in_body)
                by_page = _answer(page.statuses(scope)[role], api=False)
                if by_api != by_page:
                    differ.append(f"{role} [{scope}] {route}: API {by_api}, page {by_page}")
    assert differ == []


def test_a_course_nurse_gets_the_same_answer_for_opening_a_day_on_the_page_and_the_api(world, db):
    """Opening days is the secretary's (DESIGN.md): the API let the nurse (201) where the page
    refused her (403). Both refuse her now, and both let the secretary."""
    built, clients = world
    site = built.home.site
    date = timezone.localdate() + timedelta(days=40)
    form = {"month": f"{date:%Y-%m}", "extra_dates": f"{date:%d/%m/%Y}", "period": "day"}
    page = _url("sites/<int:site_pk>/planning/", site)
    for role, expected in (("course_nurse", (403, 403, 0)), ("secretary", (302, 201, 1))):
        answers = []
        for send in (
            lambda client: client.post(page, form),
            lambda client: client.post(
                "/api/v1/vacations/", NEW_DAY(built, site), content_type="application/json"
            ),
        ):
            with transaction.atomic():
                answers.append(send(clients[role]).status_code)
                opened = site.vacations.filter(date=date).count()
                transaction.set_rollback(True)
        assert (*answers, opened) == expected, role
