from __future__ import annotations

from django.contrib import admin

from accounts.history_words import ReadableHistoryAdmin
from vacations.models import Vacation


@admin.register(Vacation)
class VacationAdmin(ReadableHistoryAdmin):
    list_display = ["date", "period", "site", "status", "volunteer", "indemnity"]
    list_filter = ["status", "period", "site__territory"]
    list_select_related = ["site", "volunteer__user"]
    date_hierarchy = "date"
    readonly_fields = ["starts_at", "ends_at", "status", "volunteer", "indemnity"]
