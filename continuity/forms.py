"""HTML forms of the follow-up pages: they parse input; every write goes through services.

Rules (NIR refused, initials, deadlines, closing legs…) live in `continuity.services` and the
models' validators: a form checks types only, and a service's refusal is given back to the
form that asked (`add_service_error`), next to the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.forms import DsfrFormMixin
from continuity.models import (
    ExamKind,
    ExamLeg,
    FollowUpTask,
    IncomingResult,
    PendingExam,
    TaskAge,
)
from sites.models import HostSite

YES_NO = (("yes", _("Yes")), ("no", _("No")))


class ContinuityForm(DsfrFormMixin, forms.Form):
    """DSFR widgets, described errors, service refusals."""


def _text(label, *, max_length: int, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows}), **kwargs
    )


# --- Filters ----------------------------------------------------------------------------------


class WorklistFilterForm(ContinuityForm):
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    site = forms.ModelChoiceField(
        label=_("Host site"), queryset=HostSite.objects.none(), required=False
    )
    level = forms.TypedChoiceField(
        label=_("Escalation level"), required=False, coerce=int, empty_value=None
    )
    age = forms.ChoiceField(label=_("Age of the task"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, sites: QuerySet[HostSite], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = [
            (s.value, s.label) for s in FollowUpTask.Status if s in FollowUpTask.ACTIVE_STATUSES
        ]
        self.fields["status"].choices = [("", _("All active"))] + active
        self.fields["kind"].choices = [("", _("All kinds")), *FollowUpTask.Kind.choices]
        self.fields["level"].choices = [("", _("All levels")), *FollowUpTask.Level.choices]
        self.fields["age"].choices = [("", _("Any age")), *TaskAge.choices]
        self.fields["site"].queryset = sites
        self.fields["site"].empty_label = _("All my sites")


class ExamFilterForm(ContinuityForm):
    AWAITING, OVERDUE, RECEIVED, CLOSED, ALL = "awaiting", "overdue", "received", "closed", "all"
    # The queue "closed with a leg pending" (`PendingExam.leg_missing_q`), whatever the date.
    LEG_PENDING = "leg_pending"
    VIEWS = (
        (AWAITING, _("Awaiting")),
        (OVERDUE, _("Overdue")),
        (RECEIVED, _("Received, to close")),
        (LEG_PENDING, _("Closed, a leg pending")),
        (CLOSED, _("Closed")),
        (ALL, _("All")),
    )

    view = forms.ChoiceField(label=_("Show"), choices=VIEWS, required=False)
    site = forms.ModelChoiceField(
        label=_("Host site"), queryset=HostSite.objects.none(), required=False
    )
    # The closed exams only: closed from / to (Paris days), with a routing leg not done.
    closed_from = forms.DateField(
        label=_("Closed from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    closed_to = forms.DateField(
        label=_("Closed up to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    leg_missing = forms.BooleanField(label=_("A leg still pending"), required=False)

    def __init__(self, *args: Any, sites: QuerySet[HostSite], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["site"].empty_label = _("All my sites")


class SiteFilterForm(ContinuityForm):
    site = forms.ModelChoiceField(
        label=_("Host site"), queryset=HostSite.objects.none(), required=False
    )

    def __init__(self, *args: Any, sites: QuerySet[HostSite], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["site"].empty_label = _("All sites")


# --- Tasks and questions ------------------------------------------------------------------------


class TaskDoneForm(ContinuityForm):
    note = _text(
        _("What was done"),
        max_length=4000,
        required=False,
        help_text=_("Never a social-security number."),
    )


class ContactForm(ContinuityForm):
    question = _text(
        _("Your question to the prescribing volunteer"),
        max_length=2000,
        rows=4,
        help_text=_("The volunteer is told at once and answers from “My follow-ups”."),
    )


class AnswerForm(ContinuityForm):
    answer = _text(_("Your answer"), max_length=4000, rows=4)


# --- Exams ------------------------------------------------------------------------------------


class ReceiveForm(ContinuityForm):
    abnormal = forms.TypedChoiceField(
        label=_("Is the result abnormal?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        help_text=_("An abnormal result makes an urgent task."),
    )
    result_summary = _text(_("Result summary"), max_length=4000, rows=4, required=False)


class CloseForm(ContinuityForm):
    # Not required here: the service names what is missing, in the user's words.
    responsible = forms.ChoiceField(
        label=_("Who takes clinical responsibility for the follow-up?"),
        choices=PendingExam.Responsible.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    treating_doctor_status = forms.ChoiceField(
        label=_("The patient's treating doctor"),
        choices=PendingExam.TreatingDoctorStatus.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    dmp_deposited = forms.BooleanField(label=_("Deposited in the DMP"), required=False)
    sent_to_patient_space = forms.BooleanField(
        label=_("Sent to the patient's Mon espace santé"), required=False
    )
    sent_to_prescriber = forms.BooleanField(
        label=_("Sent to the prescribing volunteer"), required=False
    )
    review_note = _text(_("Review note"), max_length=4000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # RadioSelect's blank choice is not an option to offer.
        for name in ("responsible", "treating_doctor_status"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]


class LegForm(ContinuityForm):
    """One routing leg: done, or not applicable with a reason (or pending again)."""

    status = forms.ChoiceField(
        label=_("This leg is"),
        choices=[
            (ExamLeg.Status.DONE, _("Done")),
            (ExamLeg.Status.NOT_APPLICABLE, _("Not applicable")),
            (ExamLeg.Status.PENDING, _("Pending again (reopen)")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why (required when not applicable)"),
        max_length=1000,
        required=False,
        help_text=_("E.g. the patient opposed the DMP. Never a social-security number."),
    )


class ExamCancelForm(ContinuityForm):
    reason = _text(_("Why is this exam cancelled?"), max_length=4000, rows=2)


# --- Quarantine -------------------------------------------------------------------------------


class MatchForm(ContinuityForm):
    """Which exam a quarantined result belongs to: picked in a list, or by its order number.

    Both come from `exams` (the caller's `PendingExam.objects.visible_to`): anything else is the
    same error as an unknown number.
    """

    exam = forms.ModelChoiceField(
        label=_("Exam"), queryset=PendingExam.objects.none(), required=False
    )
    order_number = forms.CharField(label=_("Or its order number"), max_length=64, required=False)

    def __init__(
        self,
        *args: Any,
        exams: QuerySet[PendingExam],
        incoming: IncomingResult,
        choices: list[PendingExam] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", f"match-{incoming.pk}")
        super().__init__(*args, **kwargs)
        self.exams = exams
        self.incoming = incoming
        self.fields["exam"].queryset = exams
        self.fields["exam"].empty_label = _("Choose an exam awaiting or received")
        if choices is not None:  # the options are fetched once for the whole page
            self.fields["exam"].choices = [("", self.fields["exam"].empty_label)] + [
                (exam.pk, exam_label(exam)) for exam in choices
            ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if data.get("exam") is None:
            number = (data.get("order_number") or "").strip()
            if not number:
                raise ValidationError(_("Choose the exam, or enter its order number."))
            found = list(self.exams.filter(order_number=number).order_by("pk")[:2])
            if self.incoming.site_id and len(found) > 1:
                found = [e for e in found if e.site_id == self.incoming.site_id] or found
            if len(found) != 1:
                self.add_error("order_number", _("No exam of your sites has this order number."))
                return data
            data["exam"] = found[0]
        return data


class DismissForm(ContinuityForm):
    note = _text(
        _("Why set it aside?"),
        max_length=2000,
        rows=2,
        help_text=_("For instance: a duplicate, a patient of another practice."),
    )

    def __init__(self, *args: Any, incoming: IncomingResult, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"dismiss-{incoming.pk}")
        super().__init__(*args, **kwargs)


def exam_label(exam: PendingExam) -> str:
    return (
        f"{exam.order_number} · {exam.get_kind_display()} · {exam.patient_ref} "
        f"({exam.patient_initials}, {exam.patient_birth_year}) · {exam.ordered_on:%d/%m/%Y}"
    )


# --- Closing a day ----------------------------------------------------------------------------


class ExamRowForm(ContinuityForm):
    """One exam prescribed during the day; `exams_record` validates the rows together."""

    patient_ref = forms.CharField(
        label=_("Patient reference"),
        max_length=40,
        help_text=_("The site's own reference: never a social-security number."),
    )
    patient_initials = forms.CharField(label=_("Initials"), max_length=5)
    patient_birth_year = forms.IntegerField(label=_("Birth year"))
    kind = forms.ChoiceField(label=_("Kind of exam"), choices=ExamKind.choices)
    description = forms.CharField(label=_("Description"), max_length=300)
    order_number = forms.CharField(label=_("Order number"), max_length=64)
    expected_by = forms.DateField(
        label=_("Result expected by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Left empty: the usual delay for this kind of exam."),
    )
    performer = forms.CharField(label=_("Laboratory or radiology"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Choose")), *ExamKind.choices]


class BaseExamRowFormSet(forms.BaseFormSet):
    def rows(self) -> list[tuple[forms.Form, dict[str, Any]]]:
        """The filled rows (an untouched extra row is skipped), with what `exams_record` takes."""
        filled = []
        for form in self.forms:
            if not form.has_changed():
                continue
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            filled.append((form, data))
        return filled


ExamRowFormSet = forms.formset_factory(
    ExamRowForm, formset=BaseExamRowFormSet, extra=3, max_num=30, validate_max=True
)


class HandoverForm(ContinuityForm):
    text = _text(
        _("Handover for the team and the next volunteer"),
        max_length=10000,
        rows=6,
        help_text=_("What must be known or done after this day. Never a social-security number."),
    )
    patient_refs = _text(
        _("Patient references to follow"),
        max_length=4000,
        rows=3,
        required=False,
        help_text=_("One per line: the site's own references."),
    )
