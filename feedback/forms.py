"""The forms of a day's feedback and of incidents: they parse; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import DsfrFormMixin
from feedback.models import MISSING, SCORES, DayFeedback, Incident

SCALE = [(n, str(n)) for n in range(1, 6)]


class FeedbackForm(DsfrFormMixin, forms.ModelForm):
    """1–5 scales (1 = poor, 5 = very good), what was missing, and two free texts."""

    class Meta:
        model = DayFeedback
        fields = [*SCORES, *MISSING, "went_well", "comment"]
        widgets = {
            **{name: forms.RadioSelect(choices=SCALE) for name in SCORES},
            "went_well": forms.Textarea(attrs={"rows": 3}),
            "comment": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SCORES:
            field = self.fields[name]
            field.widget.choices = SCALE
            field.help_text = _("1 = poor, 5 = very good")
        self.style_widgets()


class IncidentForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Incident
        fields = ["kind", "severity", "what_happened", "actions_taken", "patient_ref"]
        widgets = {
            "severity": forms.RadioSelect,
            "what_happened": forms.Textarea(attrs={"rows": 4}),
            "actions_taken": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].help_text = _(
            "Severe, urgent: the territory's managers are told at once."
        )
        self.fields["severity"].choices = Incident.Severity.choices
        self.style_widgets()


class IncidentStatusForm(DsfrFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("New follow-up status"))
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to close: how the incident was dealt with."),
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        from feedback.services import NEXT_STATUSES

        super().__init__(*args, **kwargs)
        nexts = NEXT_STATUSES[Incident.Status(incident.status)]
        self.fields["status"].choices = [(s.value, s.label) for s in Incident.Status if s in nexts]
        self.style_widgets()
