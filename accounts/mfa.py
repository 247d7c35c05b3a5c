"""The one MFA rule, asked by the session middleware, the token authentication and the token
endpoint alike."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings


def mfa_enrolment_missing(user) -> bool:
    """True while `user` holds a role that requires a second factor (RELEVE_MFA_REQUIRED_ROLES)
    and has not enrolled one, when RELEVE_ENFORCE_MFA is on."""
    return (
        settings.RELEVE_ENFORCE_MFA
        and user.is_authenticated
        and user.requires_mfa()
        and not is_mfa_enabled(user)
    )
