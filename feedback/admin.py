from __future__ import annotations

from django.contrib import admin

from accounts.history_words import ReadableHistoryAdmin
from feedback.models import DayFeedback, Incident


@admin.register(DayFeedback)
class DayFeedbackAdmin(admin.ModelAdmin):
    list_display = ["vacation", "side", "welcome", "organisation", "patient_load", "equipment"]
    list_filter = ["side", "site__territory"]
    list_select_related = ["vacation__site", "site"]
    readonly_fields = ["vacation", "site", "side", "author"]


@admin.register(Incident)
class IncidentAdmin(ReadableHistoryAdmin):
    list_display = ["vacation", "kind", "severity", "status", "created_at"]
    list_filter = ["status", "severity", "kind", "site__territory"]
    list_select_related = ["vacation__site"]
    readonly_fields = ["vacation", "site", "status", "closed_at", "closed_by", "reported_by"]
