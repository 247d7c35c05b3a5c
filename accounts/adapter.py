"""allauth's adapter: how failed sign-ins are throttled (issue 10, hole 8), and the language a
person chose, applied from sign-in on (issue 12)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal import ratelimit
from django.utils import translation

from accounts import language as languages


class _Usages:
    def __init__(self, *usages) -> None:
        self.usages = usages

    def rollback(self) -> None:
        for usage in self.usages:
            usage.rollback()


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request, **credentials: Any) -> None:
        """Count a sign-in attempt per account, then per address, separately.

        allauth counts both in one `login_failed` limit (`N/ip,M/key`), where an attempt the
        account's lock refuses still spends the address's budget: 30 wrong passwords on one
        account locked every colleague behind the same NAT out. Here the account's lock
        (`login_failed`, per email) is asked first and refuses without touching the address;
        an attempt that goes on to check a password counts against the address
        (`login_failed_address`, a spray over many accounts). A successful sign-in gives both
        back (allauth's `authenticate` rolls `_login_failed_rl_usage` back), and a password
        reset clears the account's count (allauth clears `login_failed` for that key).
        Shared by the login page and `POST /api/v1/auth/token/` (which calls `authenticate`).
        """
        key = self._get_login_attempts_cache_key(request, **credentials)
        self._login_failed_rl_usage = None
        account = ratelimit.consume(request, app="allauth.account", action="login_failed", key=key)
        if not account:
            raise self.validation_error("too_many_login_attempts")
        address = ratelimit.consume(request, app="allauth.account", action="login_failed_address")
        if not address:
            account.rollback()
            raise self.validation_error("too_many_login_attempts")
        self._login_failed_rl_usage = _Usages(account, address)

    def save_user(self, request, user, form, commit=True):
        """A new account keeps the language its pages spoke at sign-up (its emails speak it too,
        and its next sign-in starts in it)."""
        user.language = languages.known(translation.get_language()) or user.language
        return super().save_user(request, user, form, commit=commit)

    def post_login(self, request, user, **kwargs: Any):
        """The first page after signing in speaks the person's language (`User.language`), as
        does the "signed in" message: without it, pages followed the browser until the
        preferences were saved again."""
        language = languages.known(getattr(user, "language", ""))
        if language:
            languages.speak(request, language)
        response = super().post_login(request, user, **kwargs)
        if language:
            languages.remember(response, language)
        return response
