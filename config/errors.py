"""The 403, 404 and 500 pages (issue 12): the site's DSFR layout, the user's language, a way
back (the home page, and the previous page when it was one of ours). A CSRF refusal is a 403
page too, saying to reload the form, instead of Django's bare "403 Forbidden"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.csrf import requires_csrf_token


def back_url(request: HttpRequest) -> str | None:
    """The page the user came from, when it is one of ours (else no "back" link)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", {"back_url": back_url(request)}, status=404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", {"back_url": back_url(request)}, status=403)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its valid token (an old tab, cookies cleared, a session ended)."""
    context = {"back_url": back_url(request), "csrf": True}
    return render(request, "403.html", context, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """No request context, no database: what broke may be either. The page speaks the language
    the request was being answered in (LocaleMiddleware set it before the failure)."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(
        template.render({"minimal": True, "LANGUAGE_CODE": get_language() or "fr"})
    )
