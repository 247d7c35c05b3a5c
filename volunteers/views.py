"""HTML pages of the volunteers app: a doctor's own space, and the managers' pages.

A doctor (`/volontaire/…`) registers or edits its profile, signs the follow-up commitment,
declares availability and gets its private calendar link. Managers (`/volontaires/…`) list the
volunteers of their scope, verify them and set their monthly maximum. Every write goes through
`volunteers.services`; which volunteers a user sees is `Volunteer.objects.visible_to(user)`
(missing and out of scope both answer 404; a manager's action asked by a non-manager, 403).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Lag
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from sites.models import Department, Region, Territory
from vacations.calendar import subscription_urls
from volunteers import forms, services
from volunteers.access import get_volunteer_for, preferred_territories
from volunteers.charter import CURRENT_VERSION, charter_text
from volunteers.models import Commitment, Volunteer

PAGE_SIZE = 20


# --- Helpers --------------------------------------------------------------------------------


def _own_profile(request: HttpRequest) -> Volunteer | None:
    """The signed-in user's own volunteer profile, if it registered one."""
    return (
        Volunteer.objects.filter(user=request.user)
        .select_related("user", "home_department", "practice_territory")
        .prefetch_related("preferred_territories")
        .first()
    )


def _visible_volunteer(request: HttpRequest, pk: int) -> Volunteer:
    """The volunteer `pk` if the user may see it; 404 for missing and out of scope alike."""
    return get_volunteer_for(request.user, pk)


def _preferred_territories() -> Prefetch:
    return preferred_territories()


_HEADING = re.compile(r"^(#{1,6})\s+(.+)$")
_LIST_ITEM = re.compile(r"^(?:\d+\.|[-*])\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    # Escaped first: the bold markers are the only markup this converter ever produces.
    return _BOLD.sub(r"<strong>\1</strong>", str(conditional_escape(text)))


@cache
def charter_html(version: str = CURRENT_VERSION) -> SafeString:
    """The charter's Markdown as HTML: headings (one level below the page's title),
    paragraphs, bold, ordered and bulleted lists. Nothing else of Markdown is needed."""
    html: list[str] = []
    for block in re.split(r"\n\s*\n", charter_text(version).strip()):
        lines = block.splitlines()
        heading = _HEADING.match(lines[0])
        if heading:
            level = min(len(heading[1]) + 1, 6)
            html.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
            lines = lines[1:]
        if not lines:
            continue
        if _LIST_ITEM.match(lines[0]):
            tag = "ol" if lines[0][0].isdigit() else "ul"
            items: list[str] = []
            for line in lines:
                if _LIST_ITEM.match(line):
                    items.append(_LIST_ITEM.sub("", line))
                else:  # a wrapped line continues the item above
                    items[-1] += " " + line.strip()
            html.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{tag}>")
        else:
            html.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return mark_safe("\n".join(html))  # noqa: S308 - every piece of text went through escape


# --- A doctor's own pages -------------------------------------------------------------------


def _save_profile(request: HttpRequest, volunteer: Volunteer | None, form) -> Volunteer:
    """Register or update the profile, and the user's name with it (all or nothing)."""
    fields = {
        **form.profile_fields(),
        "first_name": form.cleaned_data["first_name"],
        "last_name": form.cleaned_data["last_name"],
    }
    territories = form.cleaned_data["preferred_territories"]
    if volunteer is None:
        volunteer = services.volunteer_register(
            user=request.user, preferred_territories=territories, **fields
        )
    else:
        volunteer = services.volunteer_update(
            volunteer=volunteer, by=request.user, preferred_territories=territories, **fields
        )
    return volunteer


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Sign-up (one short page) and, once registered, the profile and calendar link."""
    volunteer = _own_profile(request)
    form = forms.VolunteerProfileForm(
        request.POST if request.method == "POST" else None,
        instance=volunteer,
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_profile(request, volunteer, form)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if volunteer is None:
                messages.success(request, _("Your volunteer profile is registered."))
            elif volunteer.status != saved.status == Volunteer.Status.PENDING:
                messages.warning(
                    request,
                    _(
                        "Your profile is saved. Your name or RPPS number changed: a manager "
                        "will verify your profile again before you can be booked on a new day."
                    ),
                )
            else:
                messages.success(request, _("Your profile is saved."))
            if saved.current_commitment() is None:
                return redirect("volunteer_commitment")
            return redirect("volunteer_profile")
    context: dict[str, Any] = {"form": form, "volunteer": volunteer, "section": "profile"}
    if volunteer is not None:
        context["commitment"] = volunteer.current_commitment()
        context.update(subscription_urls(request, volunteer))
    return render(request, "volunteers/profile.html", context)


@login_required
@require_POST
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    """A new secret for the volunteer's feed (the same service as the API's rotate)."""
    volunteer = _own_profile(request)
    if volunteer is None:
        raise Http404
    services.calendar_rotate(volunteer=volunteer)
    messages.success(request, _("Your calendar link is new: the old one no longer works."))
    # Back to the page it was asked from (the planning or the profile), a local one only.
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("volunteer_profile") + "#calendar")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def commitment(request: HttpRequest) -> HttpResponse:
    """The charter, the current commitment if any, and the form to sign or renew it."""
    volunteer = _own_profile(request)
    if volunteer is None:
        messages.info(request, _("Fill in your profile first."))
        return redirect("volunteer_profile")
    current = volunteer.current_commitment()
    form = forms.CommitmentForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.commitment_sign(
                volunteer=volunteer,
                charter_version=data["charter_version"],
                channels=data["channels"],
                response_hours=data["response_hours"],
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Thank you: your commitment is signed."))
            return redirect("volunteer_availability")
    channel_labels = dict(Commitment.Channel.choices)
    context = {
        "form": form,
        "volunteer": volunteer,
        "commitment": current,
        "channels": [channel_labels.get(c, c) for c in current.channels] if current else [],
        "charter_version": CURRENT_VERSION,
        "charter": charter_html(CURRENT_VERSION),
        "section": "commitment",
    }
    return render(request, "volunteers/commitment.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def availability(request: HttpRequest) -> HttpResponse:
    """Upcoming declared availabilities, and the form to declare one more."""
    volunteer = _own_profile(request)
    if volunteer is None:
        messages.info(request, _("Fill in your profile first."))
        return redirect("volunteer_profile")
    form = forms.AvailabilityForm(
        request.POST if request.method == "POST" else None, volunteer=volunteer
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.availability_declare(
                volunteer=volunteer,
                date=data["date"],
                period=data["period"],
                territories=data["territories"],
                note=data["note"],
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Your availability is recorded."))
            return redirect("volunteer_availability")
    upcoming = volunteer.availabilities.filter(date__gte=timezone.localdate()).prefetch_related(
        "territories"
    )
    page = Paginator(upcoming, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "volunteer": volunteer,
        "page_obj": page,
        "section": "availability",
    }
    return render(request, "volunteers/availability.html", context)


# --- Managers' pages ------------------------------------------------------------------------


@login_required
def volunteer_list(request: HttpRequest) -> HttpResponse:
    """Volunteers of the manager's scope, those waiting for verification first."""
    require(request.user, "sites.pilot")
    filters = forms.VolunteerFilterForm(request.GET)
    valid_until = (
        Commitment.objects.filter(volunteer=OuterRef("pk"), valid_until__gte=timezone.localdate())
        .order_by("-valid_until")
        .values("valid_until")[:1]
    )
    volunteers = (
        Volunteer.objects.visible_to(request.user)
        .select_related("user", "home_department", "practice_territory")
        .prefetch_related(_preferred_territories())
        .annotate(
            commitment_valid_until=Subquery(valid_until),
            pending_first=Case(
                When(status=Volunteer.Status.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("pending_first", "user__last_name", "user__first_name", "pk")
    )
    if filters.is_valid() and filters.cleaned_data["status"]:
        volunteers = volunteers.filter(status=filters.cleaned_data["status"])
    volunteers = volunteers.of_place(**filters.place())
    page = Paginator(volunteers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "filters": filters, "place_label": _place_label(filters.place())}
    return render(request, "volunteers/list.html", context)


def _place_label(place: dict[str, object]) -> str:
    """What the place filter names (the narrowest), for the page to say so; one query."""
    for name, model in (("territory", Territory), ("department", Department), ("region", Region)):
        if name in place:
            found = model.objects.filter(pk=place[name]).first()
            return str(found) if found else ""
    return ""


def _max_days_changes(volunteer: Volunteer):
    """The history records where `max_days_per_month` changed, newest first, each with the
    value before it (`previous_max_days`) and its author: one query, whatever the history."""
    return (
        volunteer.history.annotate(
            previous_max_days=Window(
                Lag("max_days_per_month"),
                order_by=[F("history_date").asc(), F("history_id").asc()],
            )
        )
        .filter(previous_max_days__isnull=False)
        .exclude(previous_max_days=F("max_days_per_month"))
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )


def _render_detail(
    request: HttpRequest,
    volunteer: Volunteer,
    *,
    verify_form: forms.VerifyForm | None = None,
    max_days_form: forms.MaxDaysForm | None = None,
) -> HttpResponse:
    is_manager = allowed(request.user, "volunteers.verify_volunteer", volunteer)
    current = volunteer.current_commitment()
    channel_labels = dict(Commitment.Channel.choices)
    context = {
        "volunteer": volunteer,
        "commitment": current,
        "channels": [channel_labels.get(c, c) for c in current.channels] if current else [],
        "is_manager": is_manager,
        "max_days_changes": _max_days_changes(volunteer),
    }
    if is_manager:
        if volunteer.status != Volunteer.Status.VERIFIED:
            context["verify_form"] = verify_form or forms.VerifyForm()
        context["max_days_form"] = max_days_form or forms.MaxDaysForm(
            initial={"max_days_per_month": volunteer.max_days_per_month}
        )
    return render(request, "volunteers/detail.html", context)


@login_required
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_volunteer(request, pk))


@login_required
@require_POST
def volunteer_verify(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _visible_volunteer(request, pk)
    require(request.user, "volunteers.verify_volunteer", volunteer)
    form = forms.VerifyForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_verify(
                volunteer=volunteer, by=request.user, evidence=form.cleaned_data["evidence"]
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except DomainError as exc:
            # Verified meanwhile (another manager, a second click): nothing left to fill in.
            messages.error(request, exc.message)
            return redirect("volunteer_detail", pk=volunteer.pk)
        else:
            messages.success(request, _("The volunteer is verified."))
            return redirect("volunteer_detail", pk=volunteer.pk)
    return _render_detail(request, volunteer, verify_form=form)


@login_required
@require_POST
def volunteer_max_days(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _visible_volunteer(request, pk)
    require(request.user, "volunteers.set_max_days", volunteer)
    form = forms.MaxDaysForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_set_max_days(
                volunteer=volunteer,
                by=request.user,
                max_days=form.cleaned_data["max_days_per_month"],
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("The maximum number of days per month is saved."))
            return redirect("volunteer_detail", pk=volunteer.pk)
    return _render_detail(request, volunteer, max_days_form=form)


urlpatterns = [
    path("volontaire/profil/", profile, name="volunteer_profile"),
    path("volontaire/engagement/", commitment, name="volunteer_commitment"),
    path("volontaire/disponibilites/", availability, name="volunteer_availability"),
    path(
        "volontaire/calendrier/nouveau-lien/",
        calendar_rotate,
        name="volunteer_calendar_rotate",
    ),
    path("volontaires/", volunteer_list, name="volunteer_list"),
    path("volontaires/<int:pk>/", volunteer_detail, name="volunteer_detail"),
    path("volontaires/<int:pk>/verifier/", volunteer_verify, name="volunteer_verify"),
    path(
        "volontaires/<int:pk>/jours-par-mois/",
        volunteer_max_days,
        name="volunteer_max_days",
    ),
]
