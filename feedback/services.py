"""The rules of a day's feedback and of incidents (the one place they live).

Feedback: only on a done day, by its volunteer (the volunteer's side) or its site's staff (the
site's side), once per side (`feedback_given`; the unique constraint backs it). Each side is
asked once the day is done and reminded once (`feedback_requests`, every 15 minutes; both are
stored in `FeedbackRequest`, so nothing repeats).

Incidents: reported on a day by its volunteer or its site's staff; an urgent one (severe)
tells the territory managers of the site's territory at once (their region's ARS managers if
the territory has none). The follow-up moves open → in progress → closed (open → closed too);
closing needs a comment and records who and when; a closed incident stays closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from accounts.notifications import Message, notify, notify_many
from accounts.roles import SITE_STAFF_ROLES, Role
from feedback.models import MISSING, SCORES, DayFeedback, FeedbackRequest, Incident, Side
from sites.models import Membership
from sites.rules import site_of, staff_of
from vacations.models import Vacation
from volunteers.models import Period

ASK_WITHIN = timedelta(days=14)  # a day done longer ago than this is not asked any more
REMIND_AFTER = timedelta(days=3)


# --- Feedback ---------------------------------------------------------------------------------


def side_of(user, vacation: Vacation) -> str | None:
    """Which side `user` answers for on the day: its volunteer, or its site's staff."""
    if not user.is_authenticated:
        return None
    if vacation.volunteer_id and vacation.volunteer.user_id == user.pk:
        return Side.VOLUNTEER
    if staff_of(user, site_of(vacation)):
        return Side.SITE
    return None


def check_feedback_possible(vacation: Vacation, *, by) -> str:
    """The side `by` answers for, if the day takes its feedback now; else the refusal."""
    side = side_of(by, vacation)
    if side is None:
        raise DomainError(
            "not_allowed", _("Only the day's volunteer or the site's staff give its feedback.")
        )
    if vacation.status != Vacation.Status.DONE:
        raise DomainError("day_not_done", _("Feedback is given once the day is done."))
    if DayFeedback.objects.filter(vacation=vacation, side=side).exists():
        raise DomainError("feedback_given", _("This day's feedback was already given."))
    return side


@transaction.atomic
def feedback_give(*, vacation: Vacation, by, **answers) -> DayFeedback:
    """Record `by`'s side's feedback on a done day (scores 1–5, what was missing, texts)."""
    vacation = (
        Vacation.objects.select_for_update(of=("self",))
        .select_related("volunteer")
        .get(pk=vacation.pk)
    )
    side = check_feedback_possible(vacation, by=by)
    allowed = {*SCORES, *MISSING, "went_well", "comment"}
    unknown = set(answers) - allowed
    if unknown:
        raise TypeError(f"unknown answers: {sorted(unknown)}")
    feedback = DayFeedback(vacation=vacation, site_id=vacation.site_id, side=side, author=by)
    for name, value in answers.items():
        setattr(feedback, name, value.strip() if isinstance(value, str) else value)
    feedback.full_clean(exclude=["vacation", "site", "author"], validate_unique=False)
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:  # the other tab of the same side was quicker
        raise DomainError("feedback_given", _("This day's feedback was already given.")) from None
    return feedback


def _day_context(vacation: Vacation) -> dict[str, object]:
    return {
        "site": vacation.site.name,
        "date": vacation.date.strftime("%d/%m/%Y"),
        "period": Period(vacation.period).label,
        "volunteer": vacation.volunteer.full_name,
        "link": reverse("feedback_give", args=[vacation.pk]),
    }


def _recipients(vacation: Vacation, side: str) -> list:
    if side == Side.VOLUNTEER:
        return [vacation.volunteer.user]
    return [m.user for m in vacation.site.staff]


@transaction.atomic
def feedback_requests(*, now: datetime | None = None) -> int:
    """Ask each side of the days done lately for its feedback, and remind once those that have
    not answered after `REMIND_AFTER`. Returns how many messages were written."""
    now = now or timezone.now()
    staff = Prefetch(
        "site__memberships",
        queryset=Membership.objects.filter(role__in=SITE_STAFF_ROLES).select_related("user"),
        to_attr="staff",
    )
    days = (
        Vacation.objects.filter(status=Vacation.Status.DONE, done_at__gte=now - ASK_WITHIN)
        .select_related("site", "volunteer__user")
        .prefetch_related(staff)
    )
    days = {day.pk: day for day in days}
    requests = {
        (r.vacation_id, r.side): r for r in FeedbackRequest.objects.filter(vacation__in=list(days))
    }
    answered = set(
        DayFeedback.objects.filter(vacation__in=list(days)).values_list("vacation_id", "side")
    )
    messages, new, reminded = [], [], []
    for day in days.values():
        for side in Side.values:
            request = requests.get((day.pk, side))
            if (day.pk, side) in answered:
                continue
            if request is None:
                new.append(FeedbackRequest(vacation=day, side=side, asked_at=now))
                kind = "feedback_requested"
            elif request.reminded_at is None and request.asked_at <= now - REMIND_AFTER:
                reminded.append(request.pk)
                kind = "feedback_reminder"
            else:
                continue
            messages.append(
                Message(
                    users=_recipients(day, side),
                    kind=kind,
                    context=_day_context(day),
                    dedupe_key=f"{kind}:{day.pk}:{side}",
                )
            )
    FeedbackRequest.objects.bulk_create(new, ignore_conflicts=True)
    FeedbackRequest.objects.filter(pk__in=reminded).update(reminded_at=now)
    return len(notify_many(messages))


# --- Incidents --------------------------------------------------------------------------------


def _incident_context(incident: Incident) -> dict[str, object]:
    reporter = incident.reported_by
    return {
        "site": incident.site.name,
        "date": incident.vacation.date.strftime("%d/%m/%Y"),
        "kind": Incident.Kind(incident.kind).label,
        "reporter": (reporter.get_full_name() or reporter.email) if reporter else "",
        "link": reverse("incident_detail", args=[incident.pk]),
    }


def managers_to_alert(site) -> list:
    """The territory managers of the site's territory; its region's ARS managers if none."""
    managers = Membership.objects.filter(role=Role.TERRITORY_MANAGER, territory=site.territory_id)
    if not managers.exists():
        managers = Membership.objects.filter(
            role=Role.ARS_MANAGER, region=site.territory.department.region_id
        )
    return [m.user for m in managers.select_related("user")]


@transaction.atomic
def incident_report(
    *,
    vacation: Vacation,
    by,
    kind: str,
    severity: str,
    what_happened: str,
    actions_taken: str = "",
    patient_ref: str = "",
) -> Incident:
    """Report an incident on a day (its volunteer or its site's staff): an urgent one tells
    the territory's managers at once (inbox and email)."""
    if side_of(by, vacation) is None:
        raise DomainError(
            "not_allowed", _("Only the day's volunteer or the site's staff report on it.")
        )
    if vacation.status in (Vacation.Status.OPEN, Vacation.Status.CANCELLED):
        raise DomainError("invalid_transition", _("An incident is reported on a taken day."))
    incident = Incident(
        vacation=vacation,
        site_id=vacation.site_id,
        kind=kind,
        severity=severity,
        what_happened=(what_happened or "").strip(),
        actions_taken=(actions_taken or "").strip(),
        patient_ref=(patient_ref or "").strip(),
        reported_by=by,
    )
    save_tracked(incident, by=by, validate=True)
    if incident.urgent:
        notify(
            users=managers_to_alert(vacation.site),
            kind="incident_urgent",
            context=_incident_context(incident),
            dedupe_key=f"incident_urgent:{incident.pk}",
        )
    return incident


NEXT_STATUSES = {
    Incident.Status.OPEN: {Incident.Status.IN_PROGRESS, Incident.Status.CLOSED},
    Incident.Status.IN_PROGRESS: {Incident.Status.CLOSED},
    Incident.Status.CLOSED: set(),
}


@transaction.atomic
def incident_status(
    *, incident: Incident, by, status: str, comment: str = "", now: datetime | None = None
) -> Incident:
    """Move the incident's follow-up; closing it needs a comment (who and when are kept)."""
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if status not in Incident.Status.values:
        raise ValidationError({"status": [_("Choose a follow-up status.")]})
    if status not in NEXT_STATUSES[Incident.Status(incident.status)]:
        raise DomainError(
            "invalid_transition",
            _("An incident that is %(now)s cannot become %(next)s.")
            % {
                "now": Incident.Status(incident.status).label.lower(),
                "next": Incident.Status(status).label.lower(),
            },
        )
    comment = (comment or "").strip()
    if status == Incident.Status.CLOSED:
        if not comment:
            raise ValidationError(
                {"comment": [_("Say how the incident was dealt with before closing it.")]}
            )
        incident.closing_comment = comment
        incident.closed_at = now
        incident.closed_by = by
    incident.status = status
    save_tracked(incident, by=by, reason=comment[:100] or None)
    return incident
