from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.history_words import ReadableHistoryAdmin
from continuity.models import (
    AccessRecord,
    ContactRequest,
    Escalation,
    FollowUpTask,
    Handover,
    IncomingResult,
    PendingExam,
)


@admin.register(PendingExam)
class PendingExamAdmin(ReadableHistoryAdmin):
    list_display = ["order_number", "site", "kind", "status", "expected_by", "abnormal"]
    list_filter = ["status", "kind"]
    search_fields = ["order_number", "patient_ref"]
    list_select_related = ["site"]
    raw_id_fields = ["vacation", "site", "prescriber", "created_by", "closed_by"]


@admin.register(IncomingResult)
class IncomingResultAdmin(admin.ModelAdmin):
    """Messages are evidence: read only, the raw bytes shown as text."""

    list_display = ["received_at", "format", "outcome", "reason", "site", "order_number", "size"]
    list_filter = ["outcome", "format", "reason"]
    search_fields = ["order_number", "patient_ref", "replay_key"]
    list_select_related = ["site"]
    exclude = ["raw"]
    readonly_fields = [field.name for field in IncomingResult._meta.fields if field.name != "raw"]
    readonly_fields += ["raw_text"]

    @admin.display(description=_("raw message"))
    def raw_text(self, obj) -> str:
        return bytes(obj.raw).decode("utf-8", errors="replace")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EscalationInline(admin.TabularInline):
    model = Escalation
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_level", "to_level", "from_user", "to_user", "reason"]
    exclude = ["missed_due_at"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadableHistoryAdmin):
    list_display = ["title", "site", "kind", "priority", "status", "escalation_level", "due_at"]
    list_filter = ["status", "kind", "priority", "escalation_level"]
    list_select_related = ["site"]
    raw_id_fields = ["site", "exam", "incoming", "assignee", "done_by"]
    inlines = [EscalationInline]


@admin.register(ContactRequest)
class ContactRequestAdmin(ReadableHistoryAdmin):
    list_display = ["task", "volunteer", "status", "asked_at", "due_at"]
    list_filter = ["status"]
    raw_id_fields = ["task", "volunteer", "asked_by"]


@admin.register(Handover)
class HandoverAdmin(ReadableHistoryAdmin):
    list_display = ["vacation", "author", "created_at"]
    raw_id_fields = ["vacation", "author"]


@admin.register(AccessRecord)
class AccessRecordAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "what", "object_id", "count", "path"]
    list_filter = ["what"]
    search_fields = ["user__email", "path"]
    list_select_related = ["user"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
