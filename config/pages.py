"""The pages every French public-service site links from its footer (issue 12): legal notice,
personal data, accessibility declaration (RGAA 4.1 model) and site map. Public, in the site's
layout; who runs the instance comes from settings (RELEVE_OPERATOR_NAME…), a placeholder naming
the setting until it is set."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.navigation import NAVIGATION
from accounts.roles import Role

# The RGAA's three states, as the footer and the declaration word them.
COMPLIANCE = {
    "non": _("not compliant"),
    "partial": _("partially compliant"),
    "full": _("fully compliant"),
}


def compliance_label() -> str:
    return str(COMPLIANCE[settings.RELEVE_ACCESSIBILITY_STATUS])


def operator() -> dict[str, str]:
    """Who publishes, directs, hosts and answers: the settings, or a placeholder naming each."""
    values = {
        "name": "RELEVE_OPERATOR_NAME",
        "address": "RELEVE_OPERATOR_ADDRESS",
        "director": "RELEVE_PUBLICATION_DIRECTOR",
        "host": "RELEVE_HOST_NAME",
        "host_address": "RELEVE_HOST_ADDRESS",
        "contact": "RELEVE_CONTACT_EMAIL",
        "dpo": "RELEVE_DPO_EMAIL",
    }
    return {
        key: getattr(settings, name) or _("[to be set: %(setting)s]") % {"setting": name}
        for key, name in values.items()
    }


def _context(**extra) -> dict:
    return {
        "operator": operator(),
        "site_url": settings.SITE_URL,
        "compliance": compliance_label(),
        **extra,
    }


@require_GET
def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/legal_notice.html", _context())


@require_GET
def personal_data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/personal_data.html",
        _context(
            account_months=settings.RELEVE_RETENTION_ACCOUNT_MONTHS,
            follow_up_months=settings.RELEVE_RETENTION_FOLLOW_UP_MONTHS,
        ),
    )


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/accessibility.html",
        _context(
            status=settings.RELEVE_ACCESSIBILITY_STATUS,
            rate=settings.RELEVE_ACCESSIBILITY_RATE,
            declared_on=settings.RELEVE_ACCESSIBILITY_DECLARED_ON,
        ),
    )


def _address(url_name: str) -> str | None:
    """A menu entry's address; None for a page per place (a site's planning): no one link."""
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def pages_per_role() -> list[dict]:
    """Each role and the menu entries it gets (accounts.navigation: one list for both)."""
    roles = []
    for role in Role:
        items = [
            {"label": item.label, "url": _address(item.url_name)}
            for item in NAVIGATION
            if not item.public
            and not item.staff_only
            and (item.roles is None or role in item.roles)
        ]
        roles.append({"code": role.value, "label": role.label, "items": items})
    return roles


@require_GET
def site_map(request: HttpRequest) -> HttpResponse:
    public = [
        {"label": _("Home page"), "url": reverse("home")},
        *(
            {"label": item.label, "url": reverse(item.url_name)}
            for item in NAVIGATION
            if item.public
        ),
        {"label": _("API documentation"), "url": reverse("swagger-ui")},
    ]
    account = [
        {"label": _("Sign in"), "url": reverse("account_login")},
        {"label": _("Create an account"), "url": reverse("account_signup")},
        {"label": _("Forgotten password"), "url": reverse("account_reset_password")},
    ]
    signed_in = [
        {"label": _("Notifications"), "url": reverse("inbox")},
        {"label": _("Preferences"), "url": reverse("notification_preferences")},
        {"label": _("Security"), "url": reverse("mfa_index")},
        {"label": _("API tokens"), "url": reverse("api_tokens")},
    ]
    information = [
        {"label": _("Legal notice"), "url": reverse("legal_notice")},
        {"label": _("Personal data"), "url": reverse("personal_data")},
        {"label": _("Accessibility"), "url": reverse("accessibility")},
        {"label": _("Site map"), "url": reverse("site_map")},
    ]
    return render(
        request,
        "pages/site_map.html",
        _context(
            public=public,
            account=account,
            signed_in=signed_in,
            roles=pages_per_role(),
            information=information,
        ),
    )


urlpatterns = [
    path("mentions-legales/", legal_notice, name="legal_notice"),
    path("donnees-personnelles/", personal_data, name="personal_data"),
    path("accessibilite/", accessibility, name="accessibility"),
    path("plan-du-site/", site_map, name="site_map"),
]
