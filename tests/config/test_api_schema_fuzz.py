"""schemathesis against `/api/v1/schema/`, in-process (the WSGI app, the test database), with a
token of each role on the demo world: no 5xx, and every response as the schema describes it.

A slow proof, run once: in CI's PostgreSQL pass (the `postgres` marker), where NUL bytes and
real constraints can reach the database. The budget is bounded and derandomized: every run sends
the same requests, so a failure is reproducible and CI is not flaky.
"""

from __future__ import annotations

import io
import re
import time

import pytest
import schemathesis
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import is_mfa_enabled
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from continuity.models import ContactRequest, FollowUpTask, Handover, IncomingResult, PendingExam
from sites.demo import DEMO_PASSWORD
from sites.models import HostSite, Territory
from vacations.models import Vacation
from volunteers.models import Volunteer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROLES = {
    "anonymous": None,
    "volunteer": "dr.martin@demo.releve.fr",
    "secretary": "secretariat@demo.releve.fr",
    "course_nurse": "infirmiere@demo.releve.fr",
    "territory_manager": "cpts@demo.releve.fr",
    "ars_manager": "ars@demo.releve.fr",
}
# Per operation: this many generated cases with random ids, as many with ids of the demo world;
# each case is sent once per role.
EXAMPLES = 2
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def current_totp(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def token_of(email: str) -> str:
    """Through the API's own door (`POST /api/v1/auth/token/`), a second factor when required."""
    user = User.objects.get(email=email)
    body = {"email": email, "password": DEMO_PASSWORD}
    if user.requires_mfa():
        if not is_mfa_enabled(user):
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
        else:  # pragma: no cover - the demo world has no authenticator
            pytest.fail(f"{email} already has MFA: unknown secret")
        body["otp"] = current_totp(secret)
    response = Client().post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 200, (email, response.content)
    return response.json()["token"]


def demo_ids() -> dict[str, dict[str, object]]:
    """For each path, ids of real objects of the demo world (what random ids rarely hit)."""

    def first(queryset):
        return queryset.order_by("pk").values_list("pk", flat=True).first()

    no_sheet = HostSite.objects.filter(info_sheet__isnull=True)
    ids = {
        "/api/v1/regions/{code}/": {"code": "24"},
        "/api/v1/territories/{id}/": {"id": first(Territory.objects)},
        "/api/v1/sites/{id}/": {"id": first(HostSite.objects)},
        "/api/v1/sites/{id}/info-sheet/": {"id": first(no_sheet) or first(HostSite.objects)},
        "/api/v1/volunteers/{id}/": {"id": first(Volunteer.objects)},
        "/api/v1/vacations/{id}/": {"id": first(Vacation.objects.filter(status="open"))},
        "/api/v1/exams/{id}/": {"id": first(PendingExam.objects)},
        "/api/v1/results/{id}/": {"id": first(IncomingResult.objects)},
        "/api/v1/results/quarantine/{id}/": {
            "id": first(IncomingResult.objects.filter(outcome="quarantined"))
        },
        "/api/v1/tasks/{id}/": {"id": first(FollowUpTask.objects)},
        "/api/v1/contact-requests/{id}/": {"id": first(ContactRequest.objects)},
        "/api/v1/handovers/{id}/": {"id": first(Handover.objects)},
    }
    return {path: params for path, params in ids.items() if None not in params.values()}


def known_parameters(path: str, ids: dict[str, dict[str, object]]) -> dict[str, object] | None:
    """The longest known prefix of `path` (`/sites/{id}/info-sheet/submit/` → the site's)."""
    matches = [prefix for prefix in ids if path.startswith(prefix)]
    return ids[max(matches, key=len)] if matches else None


def summary(exc: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    return text[:300]


def test_every_role_gets_no_server_error_and_answers_as_the_schema_says():
    call_command("seed_demo", stdout=io.StringIO())
    tokens = {role: email and token_of(email) for role, email in ROLES.items()}
    ids = demo_ids()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", WSGIHandler())
    failures: dict[tuple[str, str, str], str] = {}
    started = time.monotonic()

    def send(case):
        for role, token in tokens.items():
            headers = {"Authorization": f"Token {token}"} if token else {}
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:  # keep the first of each kind
                key = (case.operation.label, role, str(response.status_code))
                failures.setdefault(key, summary(exc))

    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy()]
        known = known_parameters(operation.path, ids)
        if known:
            strategies.append(operation.as_strategy(path_parameters=known))
        for strategy in strategies:
            run = settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=strategy)(send))
            run()

    elapsed = time.monotonic() - started
    report = "\n".join(
        f"{label} as {role} → {status}: {detail}"
        for (label, role, status), detail in sorted(failures.items())
    )
    assert not failures, f"{len(failures)} failure(s) in {elapsed:.0f}s:\n{report}"
