from __future__ import annotations

from django.contrib import admin

from sites.models import Department, HostSite, ManagingStructure, Membership, Region, Territory


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


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
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "epci_siren", "department", "is_priority", "managing_structure"]
    list_filter = ["is_priority", "department__region"]
    list_select_related = ["department", "managing_structure"]
    search_fields = ["name", "epci_siren"]
    autocomplete_fields = ["department", "managing_structure"]
    inlines = [MembershipInline]


@admin.register(HostSite)
class HostSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "status"]
    list_filter = ["status", "territory__department__region"]
    list_select_related = ["territory"]
    search_fields = ["name"]
    autocomplete_fields = ["territory"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "territory", "site"]
    list_filter = ["role"]
    list_select_related = ["user", "region", "territory", "site"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user", "region", "territory", "site"]
