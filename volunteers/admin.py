from __future__ import annotations

from django.contrib import admin

from accounts.history_words import ReadableHistoryAdmin
from volunteers.models import Availability, Commitment, Volunteer


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    readonly_fields = [
        "charter_version",
        "channels",
        "response_hours",
        "accepted_at",
        "valid_until",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Volunteer)
class VolunteerAdmin(ReadableHistoryAdmin):
    list_display = ["__str__", "rpps", "status", "home_department", "max_days_per_month"]
    list_filter = ["status", "practice_status"]
    list_select_related = ["user", "home_department"]
    search_fields = ["user__email", "user__last_name", "rpps"]
    readonly_fields = ["verified_at", "verified_by"]
    autocomplete_fields = ["user", "practice_territory", "preferred_territories"]
    inlines = [CommitmentInline]


@admin.register(Availability)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["volunteer", "date", "period"]
    list_select_related = ["volunteer__user"]
