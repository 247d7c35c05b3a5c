"""Pages of a day's feedback and of incidents.

- `/jours/<pk>/`: the day's page (continuity's record of the day), with its feedback and
  incidents: what the caller may give or report, and links to them.
- `/jours/<pk>/retour/`: one side's feedback form (its answer, once given);
  `/jours/<pk>/incident/`: report an incident on the day.
- `/incidents/`, `/incidents/<pk>/` (+ `statut/`): the incidents one sees, each followed until
  closed by its site's staff and managers; showing a patient reference is recorded.
- `/pilotage/retours/`: the managers' answers per site and territory (averages in the
  database, their scope; a place outside it is 404); `/sites/<pk>/retours/`: what the
  volunteers said of the site, for its staff (and managers).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from continuity.audit import record_access
from continuity.views.closure import day_record
from feedback import services
from feedback.forms import FeedbackForm, IncidentForm, IncidentStatusForm
from feedback.models import MISSING, SCORES, DayFeedback, Incident, Side
from sites.access import get_site_for
from sites.models import HostSite, Territory
from vacations.access import get_vacation_for
from vacations.models import Vacation
from vacations.views.common import day_rights
from vacations.views.staff import render_day

PAGE_SIZE = 25


def _page(request: HttpRequest, queryset, name: str = "page"):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(name))


# --- The day's page ---------------------------------------------------------------------------


def day_feedback(request: HttpRequest, vacation: Vacation) -> dict:
    """What the day's page shows of feedback and incidents: the caller's side and whether it
    answered, the way to report an incident, and the day's incidents the caller sees."""
    user = request.user
    side = services.side_of(user, vacation)
    gives = vacation.status == Vacation.Status.DONE and allowed(
        user, "feedback.give_feedback", vacation
    )
    reports = vacation.status not in (
        Vacation.Status.OPEN,
        Vacation.Status.CANCELLED,
    ) and allowed(user, "feedback.report_incident", vacation)
    incidents = list(Incident.objects.visible_to(user).filter(vacation=vacation))
    return {
        "day_feedback": {
            "gives": gives,
            "given": gives and DayFeedback.objects.filter(vacation=vacation, side=side).exists(),
            "reports": reports,
            "incidents": incidents,
        }
    }


@login_required
@require_safe
def day_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A day: its status, who comes, its preparation and the actions allowed
    (`vacations.views.render_day`); once it took place, its exams and handover
    (`continuity.views.closure.day_record`); once done, its feedback; its incidents."""
    vacation = get_vacation_for(request.user, pk)
    rights = day_rights(request, vacation)
    extra = {**day_record(request, vacation), **day_feedback(request, vacation)}
    return render_day(request, vacation, rights, extra=extra)


# --- Feedback ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def feedback_give(request: HttpRequest, pk: int) -> HttpResponse:
    """One side's feedback on a done day; once given, the answer is shown."""
    vacation = get_vacation_for(request.user, pk)
    require(request.user, "feedback.give_feedback", vacation)
    side = services.side_of(request.user, vacation)
    given = DayFeedback.objects.filter(vacation=vacation, side=side).first()
    form = refusal = None
    if given is None and request.method != "POST":
        try:
            services.check_feedback_possible(vacation, by=request.user)
        except DomainError as exc:  # not done yet: said instead of a form
            refusal = exc
    if given is None and refusal is None:
        form = FeedbackForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.feedback_give(vacation=vacation, by=request.user, **form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, gettext("Thank you: your feedback is recorded."))
                return redirect("vacation_detail", pk=vacation.pk)
    context = {
        "vacation": vacation,
        "site": vacation.site,
        "side": side,
        "form": form,
        "given": given,
        "refusal": refusal,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "feedback/feedback_form.html", context, status=status)


def _averages(prefix: str = "") -> dict:
    return {f"avg_{name}": Avg(f"{prefix}{name}") for name in SCORES}


def _missing_counts(prefix: str = "") -> dict:
    return {
        f"n_{name}": Sum(Cast(f"{prefix}{name}", output_field=IntegerField())) for name in MISSING
    }


def _in(queryset: QuerySet, value: str | None):
    """The object of `queryset` named by `value` (a query parameter), None when not given;
    404 when it is outside `queryset` (the caller's scope) or not a number."""
    if not value:
        return None
    try:
        return queryset.get(pk=int(value))
    except (ValueError, TypeError, queryset.model.DoesNotExist):
        raise Http404 from None


@login_required
@require_safe
def feedback_answers(request: HttpRequest) -> HttpResponse:
    """The managers' view: each site's and territory's answers, with their averages (in the
    database), in their scope; `?territory=`, `?site=`, `?side=` narrow it."""
    require(request.user, "feedback.read_answers")
    territories = Territory.objects.piloted_by(request.user)
    sites = HostSite.objects.piloted_by(request.user)
    territory = _in(territories, request.GET.get("territory"))
    site = _in(sites, request.GET.get("site"))
    answers = DayFeedback.objects.filter(site__in=sites)
    if territory is not None:
        answers = answers.filter(site__territory=territory)
    if site is not None:
        answers = answers.filter(site=site)
    side = request.GET.get("side")
    if side in Side.values:
        answers = answers.filter(side=side)
    counts = {
        "answers": Count("pk"),
        "from_volunteers": Count("pk", filter=Q(side=Side.VOLUNTEER)),
        "from_sites": Count("pk", filter=Q(side=Side.SITE)),
    }
    per_territory = (
        answers.values("site__territory", "site__territory__name")
        .annotate(**counts, **_averages(), **_missing_counts())
        .order_by("site__territory__name", "site__territory")
    )
    per_site = (
        answers.values("site", "site__name", "site__territory__name")
        .annotate(**counts, **_averages(), **_missing_counts())
        .order_by("site__territory__name", "site__name", "site")
    )
    latest = answers.select_related("vacation", "site").order_by("-created_at", "-pk")
    context = {
        "territory": territory,
        "site": site,
        "side": side if side in Side.values else "",
        "sides": Side.choices,
        "territories_page": _page(request, per_territory, "territoires"),
        "sites_page": _page(request, per_site, "sites"),
        "latest_page": _page(request, latest, "page"),
        "scores": [(name, DayFeedback._meta.get_field(name).verbose_name) for name in SCORES],
    }
    return render(request, "feedback/answers.html", context)


@login_required
@require_safe
def site_feedback(request: HttpRequest, site_pk: int) -> HttpResponse:
    """What the volunteers said of the site: its staff (and its managers) read it."""
    site = get_site_for(request.user, site_pk, write=True)
    answers = DayFeedback.objects.filter(site=site, side=Side.VOLUNTEER)
    summary = answers.aggregate(answers=Count("pk"), **_averages(), **_missing_counts())
    context = {
        "site": site,
        "summary": summary,
        "scores": [(name, DayFeedback._meta.get_field(name).verbose_name) for name in SCORES],
        "page": _page(request, answers.select_related("vacation").order_by("-created_at", "-pk")),
    }
    return render(request, "feedback/site_feedback.html", context)


# --- Incidents --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incident_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = get_vacation_for(request.user, pk)
    require(request.user, "feedback.report_incident", vacation)
    form = IncidentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_report(
                vacation=vacation, by=request.user, **form.cleaned_data
            )
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The incident is reported."))
            return redirect("incident_detail", pk=incident.pk)
    return render(
        request,
        "feedback/incident_form.html",
        {"vacation": vacation, "site": vacation.site, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_safe
def incidents(request: HttpRequest) -> HttpResponse:
    """The incidents the caller sees, open ones first; `?statut=` narrows them."""
    queryset = Incident.objects.visible_to(request.user).select_related(
        "site", "vacation", "reported_by"
    )
    status = request.GET.get("statut")
    if status in Incident.Status.values:
        queryset = queryset.filter(status=status)
    page = _page(request, queryset.order_by("status", "-created_at", "-pk"))
    with_refs = sum(1 for incident in page if incident.patient_ref)
    if with_refs:
        record_access(request, "incidents:list", count=with_refs)
    return render(
        request,
        "feedback/incidents.html",
        {"page": page, "status": status or "", "statuses": Incident.Status.choices},
    )


def _incident_for(user, pk) -> Incident:
    try:
        return (
            Incident.objects.visible_to(user)
            .select_related("site", "vacation__volunteer", "reported_by", "closed_by")
            .get(pk=pk)
        )
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _render_incident(request, incident: Incident, form=None, status: int = 200) -> HttpResponse:
    follows = allowed(request.user, "feedback.follow_incident", incident)
    if follows and form is None and incident.status != Incident.Status.CLOSED:
        form = IncidentStatusForm(incident=incident)
    if incident.patient_ref:
        record_access(request, "incident", count=1, object_id=incident.pk)
    history = incident.history.select_related("history_user").order_by("history_date")
    return render(
        request,
        "feedback/incident_detail.html",
        {
            "incident": incident,
            "site": incident.site,
            "form": form if follows else None,
            "history": history,
        },
        status=status,
    )


@login_required
@require_safe
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_incident(request, _incident_for(request.user, pk))


@login_required
@require_POST
def incident_status_page(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_for(request.user, pk)
    require(request.user, "feedback.follow_incident", incident)
    form = IncidentStatusForm(request.POST, incident=incident)
    if form.is_valid():
        try:
            services.incident_status(incident=incident, by=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The incident's follow-up is updated."))
            return redirect("incident_detail", pk=incident.pk)
    return _render_incident(request, incident, form, status=400)


# The day's own page: config/urls.py lists it before continuity's and vacations' pages.
day_urlpatterns = [
    path("jours/<int:pk>/", day_detail, name="vacation_detail"),
]

urlpatterns = [
    path("jours/<int:pk>/retour/", feedback_give, name="feedback_give"),
    path("jours/<int:pk>/incident/", incident_report_page, name="incident_report"),
    path("incidents/", incidents, name="incidents"),
    path("incidents/<int:pk>/", incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/statut/", incident_status_page, name="incident_status"),
    path("pilotage/retours/", feedback_answers, name="feedback_answers"),
    path("sites/<int:site_pk>/retours/", site_feedback, name="site_feedback"),
]
