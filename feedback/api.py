"""`/api/v1/feedback/` (a day's feedback, each side once) and `/api/v1/incidents/` (reported
on a day, followed until closed: `POST /api/v1/incidents/{id}/status/`). The same rules and
services as the pages (`feedback.rules`, `feedback.services`)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import ObjectRulesPermission, allowed
from continuity.audit import record_access
from feedback import services
from feedback.models import MISSING, SCORES, DayFeedback, Incident
from vacations.models import Vacation


class _DayField(serializers.PrimaryKeyRelatedField):
    """A day the caller sees (another one reads as missing: 400, never a 403 that tells)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Vacation.objects.none()
        return Vacation.objects.visible_to(request.user).select_related("volunteer")


class FeedbackSerializer(serializers.ModelSerializer):
    vacation = _DayField()

    class Meta:
        model = DayFeedback
        fields = [
            "id", "vacation", "site", "side", *SCORES, *MISSING, "went_well", "comment",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["site", "side", "created_at"]
        validators = []  # once per side: the service answers 409 `feedback_given`


class FeedbackFilter(django_filters.FilterSet):
    class Meta:
        model = DayFeedback
        fields = ["vacation", "site", "side"]


class FeedbackViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Feedback on done days: one's own, and about the sites one works at or pilots."""

    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter

    def get_queryset(self):
        return DayFeedback.objects.visible_to(self.request.user).order_by("-created_at", "-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        vacation = data.pop("vacation")
        if not allowed(request.user, "feedback.give_feedback", vacation):
            raise PermissionDenied(_("Only the day's volunteer or the site's staff give it."))
        feedback = services.feedback_give(vacation=vacation, by=request.user, **data)
        return Response(FeedbackSerializer(feedback).data, status=201)


class IncidentSerializer(serializers.ModelSerializer):
    vacation = _DayField()

    class Meta:
        model = Incident
        fields = [
            "id", "vacation", "site", "kind", "severity", "what_happened", "actions_taken",
            "patient_ref", "status", "closing_comment", "closed_at", "closed_by",
            "reported_by", "created_at",
        ]  # fmt: skip
        read_only_fields = [
            "site", "status", "closing_comment", "closed_at", "closed_by", "reported_by",
            "created_at",
        ]  # fmt: skip


class IncidentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Incident.Status.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class IncidentFilter(django_filters.FilterSet):
    class Meta:
        model = Incident
        fields = ["vacation", "site", "status", "severity", "kind"]


class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents: their site's staff and managers (and their reporter) read them; reading a
    patient reference is recorded."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    permission_classes = [IsAuthenticated, ObjectRulesPermission]
    object_permissions = {"status": "feedback.follow_incident"}

    def get_queryset(self):
        return Incident.objects.visible_to(self.request.user).order_by("-created_at", "-pk")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        with_refs = sum(1 for incident in page if incident.patient_ref)
        if with_refs:
            record_access(request, "incidents:list", count=with_refs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        if incident.patient_ref:
            record_access(request, "incident", count=1, object_id=incident.pk)
        return Response(self.get_serializer(incident).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        vacation = data.pop("vacation")
        if not allowed(request.user, "feedback.report_incident", vacation):
            raise PermissionDenied(_("Only the day's volunteer or the site's staff report it."))
        incident = services.incident_report(vacation=vacation, by=request.user, **data)
        return Response(IncidentSerializer(incident).data, status=201)

    @extend_schema(request=IncidentStatusSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        incident = self.get_object()
        body = IncidentStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services.incident_status(
            incident=incident, by=request.user, **body.validated_data
        )
        return Response(IncidentSerializer(incident).data)
