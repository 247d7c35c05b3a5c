from __future__ import annotations

import django_filters
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import allowed
from config.api import PDFRenderer
from sites import access, services
from sites.models import HostSite, InfoSheet, Membership, Region, Territory
from sites.models.sheets import AccommodationOffer, KeyContact, PracticeMode, SheetReadiness
from sites.revisions import SheetVersion, is_published, published_version


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """The 18 regions of France (public reference data)."""

    serializer_class = RegionSerializer
    permission_classes = [AllowAny]
    queryset = Region.objects.all()
    lookup_field = "code"


class TerritoryFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="department__region", label="region code")
    department = django_filters.CharFilter(field_name="department", label="department code")
    priority = django_filters.BooleanFilter(field_name="is_priority")

    class Meta:
        model = Territory
        fields = ["region", "department", "priority"]


class TerritorySerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="department.region_id", read_only=True)

    class Meta:
        model = Territory
        fields = [
            "id",
            "name",
            "epci_siren",
            "department",
            "region",
            "is_priority",
            "managing_structure",
        ]


class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilter

    def get_queryset(self):
        return Territory.objects.visible_to(self.request.user).select_related("department")


class KeyContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeyContact
        fields = ["service", "name", "phone", "priority"]


class AccommodationOfferSerializer(serializers.ModelSerializer):
    """Accommodation the host commune or EPCI offers (live: outside the validated version).
    On write, an entry with the `id` of an offer changes it, one without adds one, and an
    offer left out of the list is removed."""

    id = serializers.IntegerField(required=False)

    class Meta:
        model = AccommodationOffer
        fields = [
            "id", "kind", "offered_by", "address", "contact_name", "contact_phone",
            "nights_available",
        ]  # fmt: skip


class EquipmentEntrySerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code", max_length=50)
    label = serializers.CharField(source="item.label", read_only=True)
    available = serializers.BooleanField()


class ReadinessEntrySerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code", max_length=50)
    label = serializers.CharField(source="item.label", read_only=True)
    mandatory = serializers.BooleanField(source="item.mandatory", read_only=True)
    status = serializers.ChoiceField(choices=SheetReadiness.Status.choices)
    note = serializers.CharField(max_length=500, allow_blank=True, required=False)


class InfoSheetSerializer(serializers.ModelSerializer):
    practice_modes = serializers.ListField(
        child=serializers.ChoiceField(choices=PracticeMode.choices), required=False
    )
    contacts = KeyContactSerializer(many=True, required=False)
    accommodation_offers = AccommodationOfferSerializer(many=True, required=False)
    equipment = EquipmentEntrySerializer(many=True, required=False)
    readiness = ReadinessEntrySerializer(many=True, required=False)

    class Meta:
        model = InfoSheet
        fields = [
            "status", "patients_profile", "daily_consultations", "practice_modes",
            "team_description", "secretariat_description", "functioning_description",
            "protocols", "information_system", "remuneration", "accommodation", "transport",
            "consultation_minutes", "contacts", "accommodation_offers", "equipment", "readiness",
            "submitted_at",
            "published_at", "changed_since_publication", "updated_at", "revision_status",
            "revision_submitted_at", "return_comment",
        ]  # fmt: skip
        read_only_fields = [
            "status",
            "submitted_at",
            "published_at",
            "changed_since_publication",
            "updated_at",
            "revision_status",
            "revision_submitted_at",
            "return_comment",
        ]

    def validate_practice_modes(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # keep the order, drop repeats

    # On PATCH, DRF makes the entries' fields optional too; an entry must still say which item
    # it is and what it sets.
    def validate_equipment(self, entries: list[dict]) -> list[dict]:
        return _complete_entries(entries, ("available",))

    def validate_readiness(self, entries: list[dict]) -> list[dict]:
        return _complete_entries(entries, ("status",))


def _complete_entries(entries: list[dict], required: tuple[str, ...]) -> list[dict]:
    for entry in entries:
        missing = [name for name in required if name not in entry]
        if "code" not in entry.get("item", {}):
            missing.insert(0, "code")
        if missing:
            raise serializers.ValidationError(
                _("Each entry needs: %(fields)s.") % {"fields": ", ".join(missing)}
            )
    return entries


class _PublishedSheet:
    """A sheet's validated version as `InfoSheetSerializer` reads a sheet (what the public
    gets: never the changes waiting for validation, nor the manager's comment)."""

    def __init__(self, version: SheetVersion) -> None:
        self._version = version
        self.contacts = version.contacts
        self.equipment = version.equipment
        self.readiness = version.readiness

    def __getattr__(self, name: str):
        return getattr(self._version.sheet, name)


class ReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, required=False, max_length=4000)


class ReadinessSummarySerializer(serializers.Serializer):
    mandatory_ok = serializers.IntegerField(source="readiness_mandatory_ok")
    mandatory = serializers.IntegerField(source="readiness_mandatory")
    ok = serializers.IntegerField(source="readiness_ok")
    applicable = serializers.IntegerField(source="readiness_applicable")


class HostSiteSerializer(serializers.ModelSerializer):
    published = serializers.SerializerMethodField()
    readiness = ReadinessSummarySerializer(source="*", read_only=True)

    class Meta:
        model = HostSite
        fields = [
            "id", "name", "kind", "territory", "parent", "address", "postal_code", "city",
            "phone", "email", "rooms", "status", "published", "finess", "latitude", "longitude",
            "readiness", "days_wanted_per_month",
        ]  # fmt: skip
        # Uniqueness (name within a territory) is the database's; the service reports it.
        validators: list = []

    def get_published(self, site) -> bool:
        sheet = getattr(site, "info_sheet", None)
        return sheet is not None and sheet.status == InfoSheet.Status.PUBLISHED


class HostSiteFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="territory__department__region")
    department = django_filters.CharFilter(field_name="territory__department")

    class Meta:
        model = HostSite
        fields = ["region", "department", "territory", "status", "kind"]


MANAGER_ONLY_FIELDS = ("status", "territory")


class HostSiteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Host sites: the caller's scope plus the public catalogue (anonymous callers: only it).

    Writes need the site in the caller's scope (else 404); status and territory are the
    managers'. The information sheet and its workflow hang under `info-sheet/`.
    """

    serializer_class = HostSiteSerializer
    filterset_class = HostSiteFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_permissions(self):
        if self.request.method in SAFE_METHODS and self.action != "calendar":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_queryset(self):
        user = self.request.user
        if self.request.method in SAFE_METHODS:
            sites = HostSite.objects.visible_to(user)
        else:
            sites = HostSite.objects.in_scope_of(user)
        return sites.with_readiness().select_related("info_sheet").order_by("name", "pk")

    def perform_create(self, serializer):
        if not allowed(self.request.user, "sites.register_site"):
            raise PermissionDenied(_("Only a territory or ARS manager can change this."))
        territory = serializer.validated_data.get("territory")
        if (
            territory is None
            or not Territory.objects.managed_by(self.request.user).filter(pk=territory.pk).exists()
        ):
            raise ValidationError({"territory": [_("You do not manage this territory.")]})
        serializer.instance = services.site_create(
            by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def get_object(self):
        site = super().get_object()
        # The page's rule, asked before the body is read: the site's staff and its managers
        # edit it (not a reader such as the national manager, whose scope covers every site).
        if self.action in ("update", "partial_update") and not allowed(
            self.request.user, "sites.edit_sheet", site
        ):
            raise PermissionDenied(_("You cannot edit this site."))
        return site

    def perform_update(self, serializer):
        site = serializer.instance
        touched = [
            name for name in MANAGER_ONLY_FIELDS
            if name in serializer.validated_data
            and serializer.validated_data[name] != getattr(site, name)
        ]  # fmt: skip
        if touched and not allowed(self.request.user, "sites.manage_site", site):
            raise PermissionDenied(_("Only a territory or ARS manager can change this."))
        if (
            "territory" in touched
            and not Territory.objects.managed_by(self.request.user)
            .filter(pk=serializer.validated_data["territory"].pk)
            .exists()
        ):
            raise ValidationError({"territory": [_("You do not manage this territory.")]})
        services.site_update(site=site, by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=site.pk)

    # --- The information sheet -------------------------------------------------------------

    def _sheet(self, *, write: bool) -> InfoSheet:
        """The site's sheet. Its staff and managers get it whatever its state — a site that
        has none yet gets its empty draft on first access, to fill in; the public, only a
        published one (else 404)."""
        site = self.get_object() if write else self._readable_site()
        sheet = getattr(site, "info_sheet", None)
        published = sheet is not None and sheet.status == InfoSheet.Status.PUBLISHED
        if not (write or published or self._may_read_unpublished(site)):
            raise Http404
        if write or sheet is None:
            sheet = services.ensure_sheet(site)
        return InfoSheet.objects.prefetch_related(
            "contacts", "equipment__item", "readiness__item", "site__accommodation_offers"
        ).get(pk=sheet.pk)

    def _readable_site(self) -> HostSite:
        return access.get_site_for(self.request.user, self.kwargs["pk"])

    def _may_read_unpublished(self, site: HostSite) -> bool:
        return HostSite.objects.in_scope_of(self.request.user).filter(pk=site.pk).exists()

    def _sheet_data(self, sheet: InfoSheet) -> dict:
        """The working copy for the people in charge of the site (its scope); the validated
        version for everyone else."""
        if is_published(sheet) and not self._may_read_unpublished(sheet.site):
            return InfoSheetSerializer(_PublishedSheet(published_version(sheet))).data
        return InfoSheetSerializer(sheet).data

    @extend_schema(request=InfoSheetSerializer, responses=InfoSheetSerializer)
    @action(detail=True, methods=["get", "put", "patch"], url_path="info-sheet")
    def info_sheet(self, request, pk=None):
        if request.method in SAFE_METHODS:
            return Response(self._sheet_data(self._sheet(write=False)))
        sheet = self._sheet(write=True)
        if not allowed(request.user, "sites.edit_sheet", sheet.site):
            raise PermissionDenied(_("You cannot edit this sheet."))
        serializer = InfoSheetSerializer(
            sheet, data=request.data, partial=request.method == "PATCH"
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contacts = data.pop("contacts", None)
        offers = data.pop("accommodation_offers", None)
        equipment = data.pop("equipment", None)
        readiness = data.pop("readiness", None)
        with transaction.atomic():  # the sheet and its offers, all or nothing
            services.sheet_update(
                sheet=sheet,
                by=request.user,
                fields=data,
                contacts=contacts,
                equipment={e["item"]["code"]: e["available"] for e in equipment or []},
                readiness={
                    r["item"]["code"]: {k: r[k] for k in ("status", "note") if k in r}
                    for r in readiness or []
                },
            )
            if offers is not None:
                services.accommodation_offers_update(
                    site=sheet.site, by=request.user, offers=offers
                )
        return Response(InfoSheetSerializer(self._sheet(write=True)).data)

    @extend_schema(request=None, responses=InfoSheetSerializer)
    @action(detail=True, methods=["post"], url_path="info-sheet/submit")
    def submit(self, request, pk=None):
        """Submit a draft sheet, or the changes made to a published one, for validation."""
        sheet = self._sheet(write=True)
        if not allowed(request.user, "sites.submit_sheet", sheet.site):
            raise PermissionDenied(_("Only the site's staff can submit its sheet."))
        services.sheet_submit(sheet=sheet, by=request.user)
        return Response(InfoSheetSerializer(self._sheet(write=True)).data)

    @extend_schema(request=None, responses=InfoSheetSerializer)
    @action(detail=True, methods=["post"], url_path="info-sheet/publish")
    def publish(self, request, pk=None):
        """Validate a submitted sheet, or the submitted changes of a published one (which then
        replace its public version)."""
        sheet = self._sheet(write=True)
        if not allowed(request.user, "sites.publish_sheet", sheet.site):
            raise PermissionDenied(_("Only a manager of this territory can publish the sheet."))
        services.sheet_publish(sheet=sheet, by=request.user)
        return Response(InfoSheetSerializer(self._sheet(write=True)).data)

    @extend_schema(request=ReturnSerializer, responses=InfoSheetSerializer)
    @action(detail=True, methods=["post"], url_path="info-sheet/return")
    def return_to_site(self, request, pk=None):
        """Send a submitted sheet, or submitted changes, back to the site with a comment
        (required for changes: 400 naming `comment`)."""
        sheet = self._sheet(write=True)
        if not allowed(request.user, "sites.publish_sheet", sheet.site):
            raise PermissionDenied(_("Only a manager of this territory can send the sheet back."))
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.sheet_return_to_draft(
            sheet=sheet, by=request.user, comment=body.validated_data.get("comment", "")
        )
        return Response(InfoSheetSerializer(self._sheet(write=True)).data)

    @extend_schema(
        # The PDF renderer is there for `Accept: application/pdf`, not as a `?format=`.
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="info-sheet/pdf",
        renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, PDFRenderer],
    )
    def pdf(self, request, pk=None):
        from sites.pdf import not_modified, render_sheet_pdf, sheet_etag, sheet_html, with_etag

        sheet = self._sheet(write=False)
        html = sheet_html(sheet.site)
        etag = sheet_etag(html)
        if not_modified(request, etag):
            return with_etag(HttpResponseNotModified(), etag)
        response = HttpResponse(render_sheet_pdf(sheet.site, html), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="fiche-{slugify(sheet.site.name)}.pdf"'
        return with_etag(response, etag)

    # --- The site's private calendar feed (its team only) ----------------------------------

    def _team_site(self) -> HostSite:
        site = access.get_site_for(self.request.user, self.kwargs["pk"], write=True)
        if not allowed(self.request.user, "sites.work_at_site", site):
            raise PermissionDenied(_("Only the site's team has its calendar address."))
        return site

    def _calendar_url(self, site: HostSite) -> str:
        return self.request.build_absolute_uri(
            reverse("site_calendar", kwargs={"token": site.calendar_token})
        )

    @extend_schema(responses=inline_serializer("SiteCalendarUrl", {"url": serializers.URLField()}))
    @action(detail=True, methods=["get"], url_path="calendar")
    def calendar(self, request, pk=None):
        return Response({"url": self._calendar_url(self._team_site())})

    @extend_schema(
        request=None,
        responses=inline_serializer("SiteRotatedUrl", {"url": serializers.URLField()}),
    )
    @action(detail=True, methods=["post"], url_path="calendar/rotate")
    def calendar_rotate(self, request, pk=None):
        site = services.site_calendar_rotate(site=self._team_site(), by=request.user)
        return Response({"url": self._calendar_url(site)})


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["role", "region", "territory", "site"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    roles = RoleSerializer(many=True, source="memberships.all")
    volunteer = serializers.SerializerMethodField()

    def get_volunteer(self, user) -> int | None:
        # The volunteers app (a higher one) adds the profile; read it by its reverse name.
        profile = getattr(user, "volunteer_profile", None)
        return profile.pk if profile is not None else None


class MeView(APIView):
    """Who am I: identity, roles and the scope of each."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
