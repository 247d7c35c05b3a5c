from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import ApiTokenForm, NotificationPreferencesForm
from accounts.language import remember as remember_language
from accounts.models import ApiToken, Notification

INBOX_PAGE_SIZE = 20
API_TOKENS_PAGE_SIZE = 20


# --- Inbox ----------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """One's messages, newest first, unread ones marked; paginated."""
    notifications = Notification.objects.visible_to(request.user).only(
        "pk", "kind", "subject", "body", "link", "created_at", "read_at"
    )
    page = Paginator(notifications, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"page_obj": page})


def _mark_read(request: HttpRequest, pk: int) -> Notification:
    try:
        return services.notification_mark_read(user=request.user, pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one message read: with htmx, the message and the bell are swapped in place."""
    notification = _mark_read(request, pk)
    if request.htmx:
        return render(request, "accounts/_notification_read.html", {"notification": notification})
    return redirect("inbox")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s message(s) marked as read.") % {"count": count})
    return redirect("inbox")


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a message's link from the inbox: it is read, then."""
    notification = _mark_read(request, pk)
    link = notification.link
    if link.startswith(f"{settings.SITE_URL}/"):
        link = link.removeprefix(settings.SITE_URL)
    if link and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host(), *settings.ALLOWED_HOSTS}
    ):
        return redirect(link)
    return redirect("inbox")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """The language of one's messages (and pages), and the kinds one also wants by email."""
    form = NotificationPreferencesForm(
        request.POST if request.method == "POST" else None, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        services.preferences_update(
            user=request.user, language=language, emailed=form.cleaned_data["emailed"]
        )
        messages.success(request, _("Your preferences are saved."))
        response = redirect("notification_preferences")
        # The pages follow the chosen language on this browser too.
        remember_language(response, language)
        return response
    return render(request, "accounts/notification_preferences.html", {"form": form})


# --- API tokens -----------------------------------------------------------------------------


@login_required
@never_cache  # the answer to a creation holds the key
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """One's API tokens: the list (never a key), and a form to create a named one, whose key
    is shown once, in the answer to that POST (it is stored only as a hash)."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        created = {"token": token, "key": key}
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user).live()
    page = Paginator(tokens, API_TOKENS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/api_tokens.html",
        {
            "form": form,
            "page_obj": page,
            "created": created,
            "ttl_days": settings.RELEVE_TOKEN_TTL.days,
        },
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.api_token_revoke(user=request.user, pk=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The token is revoked: its key no longer works."))
    return redirect("api_tokens")


urlpatterns = [
    path("notifications/", inbox, name="inbox"),
    path("notifications/tout-lu/", notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", notification_preferences, name="notification_preferences"),
    path("notifications/<int:pk>/lu/", notification_read, name="notification_read"),
    path("notifications/<int:pk>/ouvrir/", notification_open, name="notification_open"),
    path("compte/jetons-api/", api_tokens, name="api_tokens"),
    path("compte/jetons-api/<int:pk>/revoquer/", api_token_revoke, name="api_token_revoke"),
]
