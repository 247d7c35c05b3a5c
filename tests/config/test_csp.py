"""Hole 9 (headers): every page carries a Content-Security-Policy that allows our own origin
only and no inline script; the pages hold none (nor inline styles or event handlers)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from continuity.models import FollowUpTask, Handover, PendingExam
from sites.models import HostSite
from vacations.models import Vacation

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings):
    settings.RELEVE_ENFORCE_MFA = False


def test_hole9_pages_carry_a_policy_of_our_own_origin_without_inline_script(client, db):
    for url in ("/", reverse("account_login"), reverse("catalogue")):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        # No third-party origin anywhere, no inline or eval allowance.
        values = [value for listed in policy.values() for value in listed]
        assert not [v for v in values if "://" in v or v in ("*", "'unsafe-inline'")]
        assert "'unsafe-eval'" not in values


def _key_pages() -> dict[str, list[str]]:
    """The pages each demo role uses most, in the demo world."""
    site = HostSite.objects.get(name__contains="Châteaumeillant")
    day = Vacation.objects.filter(site=site, status="done").first()
    exam = PendingExam.objects.filter(site=site).first()
    task = FollowUpTask.objects.filter(site=site).first()
    handover = Handover.objects.filter(vacation__site=site).first()
    common = [
        reverse("home"),
        reverse("inbox"),
        reverse("notification_preferences"),
        reverse("catalogue"),
    ]
    staff = [
        reverse("site_planning", args=[site.pk]),
        reverse("vacation_detail", args=[day.pk]),
        reverse("continuity_day_closure", args=[day.pk]),
        reverse("continuity_worklist"),
        reverse("continuity_quarantine"),
        reverse("continuity_task", args=[task.pk]),
        reverse("continuity_exams"),
        reverse("continuity_exam", args=[exam.pk]),
        reverse("continuity_handovers"),
        reverse("continuity_handover", args=[handover.pk]),
        reverse("site_detail", args=[site.pk]),
        reverse("site_history", args=[site.pk]),
    ]
    return {
        "secretariat@demo.releve.fr": common + staff,
        "infirmiere@demo.releve.fr": common + staff,
        "cpts@demo.releve.fr": [
            *common,
            reverse("volunteer_list"),
            reverse("coverage"),
            reverse("reports:overview"),
            reverse("reports:coverage"),
            reverse("reports:coverage_days"),
            reverse("site_list"),
        ],
        "dr.martin@demo.releve.fr": [
            *common,
            reverse("my_planning"),
            reverse("volunteer_profile"),
            reverse("volunteer_commitment"),
            reverse("continuity_my_followups"),
        ],
    }


def test_hole9_key_pages_hold_no_inline_script_style_or_handler(client):
    call_command("seed_demo")
    anonymous = ["/", reverse("account_login"), reverse("account_signup"), reverse("catalogue")]
    seen = 0
    for email, urls in [("", anonymous), *_key_pages().items()]:
        client.logout()
        if email:
            client.force_login(User.objects.get(email=email))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (email, url)
            html = response.content.decode()
            assert INLINE_SCRIPT.findall(html) == [], (email, url)
            assert INLINE_HANDLER.findall(html) == [], (email, url)
            assert INLINE_STYLE.findall(html) == [], (email, url)
            assert "Content-Security-Policy" in response
            seen += 1
    assert seen >= 30


def test_hole9_the_api_docs_work_under_a_policy_relaxed_for_styles_only(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    policy = directives(page)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    html = page.content.decode()
    assert INLINE_SCRIPT.findall(html) == []
    script = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1)
    start = client.get(script.replace("&amp;", "&"))
    assert start.status_code == 200
    assert start["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start.content.decode()
    # And the rest of the site keeps the strict policy.
    assert directives(client.get("/"))["style-src"] == ["'self'"]
