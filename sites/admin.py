from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.history_words import ReadableHistoryAdmin
from sites import services
from sites.models import (
    Department,
    EquipmentItem,
    HostSite,
    InfoSheet,
    KeyContact,
    ManagingStructure,
    Membership,
    ReadinessItem,
    Region,
    SheetEquipment,
    SheetReadiness,
    Territory,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class EndsMembershipsMixin:
    """Memberships removed from an inline go through `membership_end` (a site's calendar
    secret is rotated when someone leaves its team)."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_end(membership=membership, by=request.user)
        for membership in instances:
            membership.save()
        formset.save_m2m()
        return None


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["name", "code"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["name", "code"]


@admin.register(ManagingStructure)
class ManagingStructureAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region"]
    list_filter = ["kind", "region"]
    search_fields = ["name"]


@admin.register(Territory)
class TerritoryAdmin(EndsMembershipsMixin, admin.ModelAdmin):
    list_display = ["name", "epci_siren", "department", "is_priority", "managing_structure"]
    list_filter = ["is_priority", "department__region"]
    list_select_related = ["department", "managing_structure"]
    search_fields = ["name", "epci_siren"]
    autocomplete_fields = ["department", "managing_structure"]
    inlines = [MembershipInline]


@admin.register(HostSite)
class HostSiteAdmin(EndsMembershipsMixin, ReadableHistoryAdmin):
    list_display = ["name", "kind", "territory", "status", "sheet_status", "readiness"]
    list_filter = ["status", "kind", "territory__department__region"]
    list_select_related = ["territory", "info_sheet"]
    search_fields = ["name", "city", "finess"]
    autocomplete_fields = ["territory", "parent"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_readiness()

    @admin.display(description=_("sheet"))
    def sheet_status(self, site):
        sheet = getattr(site, "info_sheet", None)
        return sheet.get_status_display() if sheet else "—"

    @admin.display(description=_("readiness (mandatory)"))
    def readiness(self, site):
        return f"{site.readiness_mandatory_ok}/{site.readiness_mandatory}"


class KeyContactInline(admin.TabularInline):
    model = KeyContact
    extra = 0


class SheetReadinessInline(admin.TabularInline):
    model = SheetReadiness
    extra = 0
    can_delete = False
    readonly_fields = ["item"]

    def has_add_permission(self, request, obj=None):
        return False


class SheetEquipmentInline(SheetReadinessInline):
    model = SheetEquipment


@admin.register(InfoSheet)
class InfoSheetAdmin(ReadableHistoryAdmin):
    list_display = ["site", "status", "revision_status", "published_at"]
    list_filter = ["status", "revision_status"]
    list_select_related = ["site"]
    search_fields = ["site__name"]
    # The workflow is the services' (the site page): the admin shows it, never moves it.
    readonly_fields = [
        "status",
        "submitted_at",
        "published_at",
        "published_by",
        "revision_status",
        "revision_submitted_at",
        "return_comment",
    ]
    inlines = [KeyContactInline, SheetReadinessInline, SheetEquipmentInline]


@admin.register(EquipmentItem)
class EquipmentItemAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "field_addition", "position"]
    list_editable = ["position"]


@admin.register(ReadinessItem)
class ReadinessItemAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "mandatory", "position"]
    list_editable = ["position"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "territory", "site"]
    list_filter = ["role"]
    list_select_related = ["user", "region", "territory", "site"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user", "region", "territory", "site"]

    def delete_model(self, request, obj):
        services.membership_end(membership=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("site"):
            services.membership_end(membership=membership, by=request.user)
