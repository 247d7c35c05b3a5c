from __future__ import annotations

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.mfa import mfa_enrolment_missing

# What a user who must enrol a second factor may still reach.
OPEN_PREFIXES = (
    "/accounts/", "/static/", "/i18n/", "/healthz", "/calendar/",
    # The footer's legal pages (config/pages.py): readable before enrolling.
    "/mentions-legales/", "/donnees-personnelles/", "/accessibilite/", "/plan-du-site/",
)  # fmt: skip


class MFARequiredMiddleware:
    """Managers and course nurses must enrol TOTP before anything else (RELEVE_ENFORCE_MFA)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "mfa_required",
                        "detail": _("Your role requires two-factor authentication."),
                    },
                    status=403,
                )
            messages.warning(
                request,
                _("Your role gives access to health data: set up two-factor authentication."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_enrol(self, request) -> bool:
        # API calls with a token are checked by accounts.authentication (DRF authenticates them
        # after this middleware has run).
        return not request.path.startswith(OPEN_PREFIXES) and mfa_enrolment_missing(request.user)
