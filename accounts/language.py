"""A person's chosen language (`User.language`) on the pages: kept in the language cookie of
the browser they use, from the moment they sign in (not only once they save preferences)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation


def known(language: str | None) -> str | None:
    """`language` if the site speaks it (a bare code: "en", not "en-gb"), else None."""
    code = (language or "").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else None


def remember(response: HttpResponseBase, language: str) -> None:
    """This browser's pages speak `language` from the next request on (LocaleMiddleware reads
    the cookie before Accept-Language)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )


def speak(request: HttpRequest, language: str) -> None:
    """The rest of this request in `language` too (the "signed in" message, for one)."""
    translation.activate(language)
    request.LANGUAGE_CODE = language
