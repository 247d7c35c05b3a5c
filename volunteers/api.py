from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import allowed
from sites.models import Department, Territory
from volunteers import services
from volunteers.models import Availability, Commitment, Period, Volunteer


class VolunteerSerializer(serializers.ModelSerializer):
    first_name = serializers.CharField(source="user.first_name", max_length=150)
    last_name = serializers.CharField(source="user.last_name", max_length=150)
    home_department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    preferred_territories = serializers.PrimaryKeyRelatedField(
        queryset=Territory.objects.all(), many=True, required=False
    )
    commitment_valid = serializers.SerializerMethodField()
    practises_in_priority_zone = serializers.BooleanField(
        source="practises_in_a_priority_zone", read_only=True
    )

    class Meta:
        model = Volunteer
        fields = [
            "id", "first_name", "last_name", "rpps", "practice_status", "home_department",
            "practice_territory", "software", "mss_address", "phone", "max_days_per_month",
            "preferred_territories", "status", "commitment_valid", "practises_in_priority_zone",
            "verified_at",
        ]  # fmt: skip
        read_only_fields = ["status", "max_days_per_month", "verified_at"]

    def get_commitment_valid(self, volunteer) -> bool:
        # Lists annotate it (`with_commitment_valid`): one query for the page, not one a row.
        if hasattr(volunteer, "has_valid_commitment"):
            return volunteer.has_valid_commitment
        return volunteer.current_commitment() is not None


class ManagerVolunteerSerializer(VolunteerSerializer):
    """Managers may also raise one volunteer's monthly maximum."""

    class Meta(VolunteerSerializer.Meta):
        read_only_fields = ["status", "verified_at"]


class CommitmentSerializer(serializers.ModelSerializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Commitment.Channel.choices), required=False
    )

    class Meta:
        model = Commitment
        fields = ["charter_version", "channels", "response_hours", "accepted_at", "valid_until"]
        read_only_fields = ["accepted_at", "valid_until"]


class AvailabilitySerializer(serializers.ModelSerializer):
    period = serializers.ChoiceField(choices=Period.choices, default=Period.DAY)
    territories = serializers.PrimaryKeyRelatedField(
        queryset=Territory.objects.all(), many=True, required=False
    )

    class Meta:
        model = Availability
        fields = ["id", "date", "period", "territories", "note"]


class VerifySerializer(serializers.Serializer):
    evidence = serializers.CharField(max_length=2000)


def _profile_fields(validated: dict) -> dict:
    """The serializer nests the name under `user`; the services take it flat."""
    data = dict(validated)
    return {**data.pop("user", {}), **data}


class VolunteerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Volunteer profiles: managers and site staff read those of their scope; a doctor
    creates and edits its own (`me`), signs the commitment and declares availability."""

    filterset_fields = ["status"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            Volunteer.objects.visible_to(self.request.user)
            .select_related("user", "practice_territory")
            .prefetch_related("preferred_territories")
            .annotate(
                has_valid_commitment=Exists(
                    Commitment.objects.filter(
                        volunteer=OuterRef("pk"), valid_until__gte=timezone.localdate()
                    )
                )
            )
        )

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request object
            return VolunteerSerializer
        if self.action == "partial_update" and allowed(
            self.request.user, "volunteers.set_max_days", self.get_object()
        ):
            return ManagerVolunteerSerializer
        return VolunteerSerializer

    def _mine(self) -> Volunteer:
        return get_object_or_404(self.get_queryset(), user=self.request.user)

    def perform_create(self, serializer):
        fields = _profile_fields(serializer.validated_data)
        territories = fields.pop("preferred_territories", [])
        serializer.instance = services.volunteer_register(
            user=self.request.user, preferred_territories=territories, **fields
        )

    def perform_update(self, serializer):
        volunteer = serializer.instance
        if not allowed(self.request.user, "volunteers.edit_profile", volunteer):
            raise PermissionDenied(_("You can only edit your own profile."))
        fields = _profile_fields(serializer.validated_data)
        territories = fields.pop("preferred_territories", None)
        serializer.instance = services.volunteer_update(
            volunteer=volunteer,
            by=self.request.user,
            preferred_territories=territories,
            **fields,
        )

    @action(detail=False, methods=["get", "patch"], url_path="me")
    def me(self, request):
        volunteer = self._mine()
        if request.method == "GET":
            return Response(VolunteerSerializer(volunteer).data)
        serializer = VolunteerSerializer(volunteer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(VolunteerSerializer(self._mine()).data)

    @extend_schema(request=VerifySerializer, responses=VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        volunteer = self.get_object()
        if not allowed(request.user, "volunteers.verify_volunteer", volunteer):
            raise PermissionDenied(_("Only a territory or ARS manager verifies volunteers."))
        body = VerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.volunteer_verify(
            volunteer=volunteer, by=request.user, evidence=body.validated_data["evidence"]
        )
        return Response(VolunteerSerializer(self.get_queryset().get(pk=volunteer.pk)).data)

    @extend_schema(request=CommitmentSerializer, responses={201: CommitmentSerializer})
    @action(detail=False, methods=["post"], url_path="me/commitment")
    def commitment(self, request):
        volunteer = self._mine()
        body = CommitmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        commitment = services.commitment_sign(
            volunteer=volunteer,
            charter_version=data["charter_version"],
            channels=data.get("channels") or ["mssante", "phone"],
            response_hours=data.get("response_hours", 72),
        )
        return Response(CommitmentSerializer(commitment).data, status=201)

    @extend_schema(request=AvailabilitySerializer, responses=AvailabilitySerializer(many=True))
    @action(detail=False, methods=["get", "post"], url_path="me/availability")
    def availability(self, request):
        volunteer = self._mine()
        if request.method == "GET":
            rows = volunteer.availabilities.prefetch_related("territories")
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(AvailabilitySerializer(page, many=True).data)
        body = AvailabilitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        availability = services.availability_declare(
            volunteer=volunteer,
            date=data["date"],
            period=data["period"],
            territories=data.get("territories", []),
            note=data.get("note", ""),
        )
        return Response(AvailabilitySerializer(availability).data, status=201)

    @extend_schema(responses=inline_serializer("CalendarUrl", {"url": serializers.URLField()}))
    @action(detail=False, methods=["get"], url_path="me/calendar")
    def calendar(self, request):
        return Response({"url": self._calendar_url(self._mine())})

    @extend_schema(
        request=None, responses=inline_serializer("RotatedUrl", {"url": serializers.URLField()})
    )
    @action(detail=False, methods=["post"], url_path="me/calendar/rotate")
    def calendar_rotate(self, request):
        volunteer = services.calendar_rotate(volunteer=self._mine())
        return Response({"url": self._calendar_url(volunteer)})

    def _calendar_url(self, volunteer: Volunteer) -> str:
        return self.request.build_absolute_uri(
            reverse("volunteer_calendar", kwargs={"token": volunteer.calendar_token})
        )
