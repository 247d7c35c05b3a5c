"""The one thing the pilotage owns: a territory's monthly statement of indemnities.

Indemnities are computed from closed days (`reports.indemnities`); what is stored here is only
where the month's payment stands for a territory: `draft → validated (by the territory
manager) → paid (recorded by the ARS)`, each step audited (simple-history) and decided in
`reports.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from sites.models import Territory


class Statement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        VALIDATED = "validated", _("Validated")
        PAID = "paid", _("Paid")

    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="statements", verbose_name=_("territory")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    # What the territory manager validated (and the ARS then pays): a day closed late, after
    # the validation, changes the month's figures but not these; the payment is refused until
    # the statement is validated again (`reports.services`).
    validated_days = models.DecimalField(
        _("days validated"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    validated_amount = models.DecimalField(
        _("amount validated (EUR)"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("statement of indemnities")
        verbose_name_plural = _("statements of indemnities")
        ordering = ["-month", "territory__name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "month"], name="statement_unique_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="statement_month_first_day"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(validated_at__isnull=False),
                name="statement_validated_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="statement_paid_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(validated_days__isnull=False, validated_amount__isnull=False),
                name="statement_validated_has_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.territory} — {self.month:%m/%Y} ({self.get_status_display()})"
