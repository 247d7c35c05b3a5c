"""`Authorization: Token <key>` for the API: our hashed, expiring `ApiToken` (see its docstring)."""

from __future__ import annotations

from datetime import timedelta
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.mfa import mfa_enrolment_missing
from accounts.models import ApiToken

# `last_used_at` is a hint for the owner, not an audit trail: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class MFARequired(exceptions.PermissionDenied):
    default_detail = _("Your role requires two-factor authentication.")
    default_code = "mfa_required"


class ApiTokenAuthentication(BaseAuthentication):
    """Checked on every request, not only when the key was issued: the key must match a live
    token of an active user, and a user whose role requires MFA must have enrolled (403
    `mfa_required`, as the session middleware answers), so a key issued before MFA was enforced
    stops working until then. Unknown, revoked or expired keys answer 401."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:  # noqa: PLR2004
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = self._find(key)
        user = token.user
        if mfa_enrolment_missing(user):
            raise MFARequired()
        self._touch(token)
        return user, token

    def authenticate_header(self, request) -> str:
        return self.keyword

    @staticmethod
    def _find(key: str) -> ApiToken:
        now = timezone.now()
        digest = ApiToken.hash(key)
        candidates = ApiToken.objects.filter(prefix=key[: ApiToken.PREFIX_LENGTH]).select_related(
            "user"
        )
        for token in candidates:
            if compare_digest(token.digest, digest):
                if token.is_expired(now=now):
                    raise exceptions.AuthenticationFailed(_("This token has expired."))
                if not token.user.is_active:
                    raise exceptions.AuthenticationFailed(_("Invalid token."))
                return token
        raise exceptions.AuthenticationFailed(_("Invalid token."))

    @staticmethod
    def _touch(token: ApiToken) -> None:
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            token.last_used_at = now
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _('Token-based authentication with the prefix "Token "'),
        }
