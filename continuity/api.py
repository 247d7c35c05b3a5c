"""Continuity of care over the API (API.md § Continuity of care).

Every list and object reading goes through a `visible_to` queryset (404 outside scope) and writes
an access record; every change goes through `continuity.services` or `continuity.ingest`.
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import ObjectRulesPermission, allowed
from config.api import PDFRenderer
from continuity import ingest, services
from continuity.access import incoming_results_for
from continuity.audit import record_access
from continuity.letter import letter_pdf
from continuity.models import (
    ContactRequest,
    ExamKind,
    ExamLeg,
    FollowUpTask,
    Handover,
    IncomingResult,
    PendingExam,
)
from continuity.parsing import MAX_BATCH_MESSAGES
from sites.models import HostSite
from vacations import api as vacations_api
from vacations.models import Vacation


class AuditedListMixin:
    """Lists and objects holding patient references leave an access record per display."""

    audit_name = ""

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        data = response.data
        count = len(data.get("results", [])) if isinstance(data, dict) else len(data)
        record_access(request, f"{self.audit_name}:list", count=count)
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        record_access(request, self.audit_name, count=1, object_id=kwargs.get("pk"))
        return response


# --- Days -------------------------------------------------------------------------------------


class VacationViewSet(vacations_api.VacationViewSet):
    """Vacation days and their transitions (409 with a stable code when a rule refuses)."""

    # The one routed (config/urls.py): `complete` closes a day through continuity's
    # `day_close`, 409 `closure_incomplete` until its exams and handover are recorded.
    close_day = staticmethod(services.day_close)


# --- Exams ------------------------------------------------------------------------------------


class LegSerializer(serializers.Serializer):
    """One routing leg (`ExamLeg`): `at` and `by` say when and who, `reason` why not."""

    leg = serializers.ChoiceField(choices=ExamLeg.Leg.choices)
    status = serializers.ChoiceField(choices=ExamLeg.Status.choices)
    at = serializers.DateTimeField(allow_null=True)
    by = serializers.IntegerField(source="by_id", allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class ExamSerializer(serializers.ModelSerializer):
    vacation = serializers.PrimaryKeyRelatedField(queryset=Vacation.objects.none())
    legs = serializers.SerializerMethodField()
    # Blank until the exam is closed: the schema must allow "" (read-only fields lose it).
    responsible = serializers.ChoiceField(
        choices=PendingExam.Responsible.choices, allow_blank=True, read_only=True
    )
    treating_doctor_status = serializers.ChoiceField(
        choices=PendingExam.TreatingDoctorStatus.choices, allow_blank=True, read_only=True
    )
    expected_by = serializers.DateField(required=False)
    ordered_on = serializers.DateField(required=False)

    class Meta:
        model = PendingExam
        fields = [
            "id", "vacation", "site", "prescriber", "patient_ref", "patient_initials",
            "patient_birth_year", "kind", "description", "order_number", "ordered_on",
            "expected_by", "performer", "status", "received_at", "abnormal", "result_summary",
            "responsible", "treating_doctor_status", "review_note", "dmp_deposited",
            "sent_to_patient_space", "sent_to_prescriber", "legs", "closed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = [
            "site", "prescriber", "status", "received_at", "abnormal", "result_summary",
            "responsible", "treating_doctor_status", "review_note", "dmp_deposited",
            "sent_to_patient_space", "sent_to_prescriber", "closed_at", "created_at",
        ]  # fmt: skip
        # The model's validators run in the service (one place), with the same messages.
        extra_kwargs = {
            name: {"validators": []}
            for name in ("patient_ref", "patient_initials", "patient_birth_year", "description")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["vacation"].queryset = Vacation.objects.visible_to(request.user)

    @extend_schema_field(LegSerializer(many=True))
    def get_legs(self, exam) -> list[dict]:
        return LegSerializer(services.legs_shown(exam), many=True).data


class LegRecordSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ExamLeg.Status.choices)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class ReceiveSerializer(serializers.Serializer):
    abnormal = serializers.BooleanField()
    result_summary = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    responsible = serializers.ChoiceField(choices=PendingExam.Responsible.choices)
    treating_doctor_status = serializers.ChoiceField(
        choices=PendingExam.TreatingDoctorStatus.choices
    )
    review_note = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    dmp_deposited = serializers.BooleanField(default=False)
    sent_to_patient_space = serializers.BooleanField(default=False)
    sent_to_prescriber = serializers.BooleanField(default=False)


class ExamCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class ExamFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    kind = django_filters.ChoiceFilter(choices=ExamKind.choices)

    class Meta:
        model = PendingExam
        fields = ["status", "site", "vacation", "kind", "prescriber"]

    def filter_overdue(self, queryset, name, value):
        overdue = PendingExam.overdue_q(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class ExamViewSet(
    AuditedListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Pending exams: the volunteer who prescribed them and the site staff record them."""

    serializer_class = ExamSerializer
    filterset_class = ExamFilter
    audit_name = "exams"
    permission_classes = [IsAuthenticated, ObjectRulesPermission]
    object_permissions = {
        "receive": "continuity.act_on_exam",
        "close": "continuity.act_on_exam",
        "cancel": "continuity.act_on_exam",
        "record_leg": "continuity.act_on_exam",
        "letter": "continuity.read_letter",
    }

    def get_queryset(self):
        return (
            PendingExam.objects.visible_to(self.request.user)
            .prefetch_related("legs")
            .order_by("expected_by", "pk")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        vacation = data.pop("vacation")
        if not allowed(request.user, "continuity.record_exams", vacation):
            raise PermissionDenied(_("Only the day's volunteer or the site's staff record exams."))
        (exam,) = services.exams_record(vacation=vacation, by=request.user, rows=[data])
        return Response(ExamSerializer(exam).data, status=201)

    def _answer(self, exam: PendingExam) -> Response:
        exam = PendingExam.objects.prefetch_related("legs").get(pk=exam.pk)
        return Response(ExamSerializer(exam).data)

    @extend_schema(request=ReceiveSerializer, responses=ExamSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        exam = self.get_object()
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.exam_receive(exam=exam, by=request.user, **body.validated_data)
        return self._answer(exam)

    @extend_schema(request=CloseSerializer, responses=ExamSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        exam = self.get_object()
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.exam_close(exam=exam, by=request.user, **body.validated_data)
        return self._answer(exam)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "leg", str, OpenApiParameter.PATH, enum=ExamLeg.Leg.values, description="The leg."
            )
        ],
        request=LegRecordSerializer,
        responses=ExamSerializer,
        description=(
            "Record one routing leg: done (now, by the caller), not_applicable (a reason is "
            "required) or pending again. 409 invalid_transition before the result is received, "
            "or for the treating_doctor leg when the treating doctor is not elsewhere."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        # Any segment: an unknown leg is the API's own 404 (JSON), not the site's page.
        url_path=r"legs/(?P<leg>[^/]+)",
    )
    def record_leg(self, request, pk=None, leg=None):
        exam = self.get_object()
        if leg not in ExamLeg.Leg.values:
            raise Http404
        body = LegRecordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.exam_leg_record(
            exam=exam,
            leg=leg,
            by=request.user,
            status=body.validated_data["status"],
            reason=body.validated_data.get("reason", ""),
        )
        return self._answer(exam)

    @extend_schema(
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description=(
            "The liaison letter to the patient's treating doctor (PDF, French), for an exam "
            "whose patient has a treating doctor elsewhere (404 otherwise): the site's staff "
            "and the prescriber."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, PDFRenderer],
    )
    def letter(self, request, pk=None):
        exam = self.get_object()
        record_access(request, "exam_letter", count=1, object_id=exam.pk)
        return letter_pdf(exam)

    @extend_schema(request=ExamCancelSerializer, responses=ExamSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        exam = self.get_object()
        body = ExamCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.exam_cancel(
            exam=exam, by=request.user, reason=body.validated_data.get("reason", "")
        )
        return self._answer(exam)


# --- Incoming results -------------------------------------------------------------------------


class IncomingSerializer(serializers.ModelSerializer):
    # Blank for a matched message: the schema says so (a read-only model choice field would not).
    reason = serializers.ChoiceField(
        choices=IncomingResult.Reason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = IncomingResult
        fields = [
            "id", "format", "content_type", "size", "received_at", "caller", "site", "outcome",
            "reason", "error", "order_number", "patient_ref", "abnormal", "summary",
            "report_status", "exam", "replay_of", "batch", "message", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields


class OrderResultSerializer(serializers.Serializer):
    """One order of a message answering several: matched to its exam, or quarantined."""

    status = serializers.ChoiceField(choices=["matched", "quarantined"])
    incoming = serializers.IntegerField(
        help_text="The order's own row (the message's bytes are its message's)."
    )
    order_number = serializers.CharField()
    exam = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False)


class IngestionResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["matched", "quarantined", "invalid"])
    incoming = serializers.IntegerField()
    exam = serializers.IntegerField(required=False)
    detail = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    # A message answering several orders (repeated ORC/OBR groups): each order matched or
    # quarantined on its own. `status` is matched when every order is (then `exam` is the
    # first order's), else quarantined (`reason`: the first quarantined order's).
    exams = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Several orders: the exams matched, in the message's order.",
    )
    orders = OrderResultSerializer(
        many=True, required=False, help_text="Several orders: what each became, in order."
    )


class BatchResultSerializer(serializers.Serializer):
    results = IngestionResultSerializer(many=True)


def _answer(incoming: IncomingResult) -> tuple[dict, int]:
    """What one message became, and the status it is answered with when sent alone."""
    outcome = incoming.outcome
    if outcome == IncomingResult.Outcome.SPLIT:
        return _split_answer(incoming)
    if outcome == IncomingResult.Outcome.MATCHED:
        return {"status": "matched", "exam": incoming.exam_id, "incoming": incoming.pk}, 201
    if outcome == IncomingResult.Outcome.QUARANTINED:
        return {"status": "quarantined", "incoming": incoming.pk, "reason": incoming.reason}, 202
    return {"status": "invalid", "incoming": incoming.pk, "detail": incoming.error}, 422


def _split_answer(incoming: IncomingResult) -> tuple[dict, int]:
    """A message answering several orders: the one-message shape (matched only when every
    order is), plus `exams` and `orders`, one per order."""
    parts = getattr(incoming, "order_results", None)
    if parts is None:
        parts = list(incoming.orders.order_by("pk"))
    orders = []
    for part in parts:
        item, _status = _answer(part)
        item.pop("detail", None)
        orders.append({**item, "order_number": part.order_number})
    exams = [item["exam"] for item in orders if item["status"] == "matched"]
    data = {"incoming": incoming.pk, "exams": exams, "orders": orders}
    waiting = [item for item in orders if item["status"] != "matched"]
    if not waiting:
        return {"status": "matched", "exam": exams[0], **data}, 201
    return {"status": "quarantined", "reason": waiting[0].get("reason", ""), **data}, 202


class ResultIngestionView(APIView):
    """One result message, or a batch of them, in; stored raw before anything else; never a 500
    on its content."""

    permission_classes = [IsAuthenticated]
    fmt = ""
    # The body is read here, raw: DRF's parsers must not touch it.
    parser_classes: list = []

    @extend_schema(
        request={"text/plain": OpenApiTypes.STR},
        description=(
            "One message: 201 matched, 202 quarantined, 422 invalid. A message answering "
            "several orders (repeated ORC/OBR groups) is matched order by order: 201 matched "
            "when every order is (`exam` the first one's), else 202 quarantined; `exams` lists "
            "the exams matched and `orders` what each order became. A batch (several HL7 "
            "messages, optionally wrapped in FHS/BHS ... BTS/FTS, or a FHIR Bundle of type "
            "batch or collection): 200 with one result per message, in the body's order, each "
            "message stored and handled on its own; a batch with no message or more than "
            f"{MAX_BATCH_MESSAGES} is refused whole (422)."
        ),
        responses={
            200: BatchResultSerializer,
            201: IngestionResultSerializer,
            202: IngestionResultSerializer,
            422: IngestionResultSerializer,
        },
    )
    def post(self, request):
        user = request.user
        # Every message is filed at a site, whose nurse owns it if it can't be matched.
        site = ingest.home_site(user) if allowed(user, "continuity.send_results") else None
        if site is None:
            raise PermissionDenied(_("Only a host site's account may send results."))
        body = request._request.read(ingest.STORED_BYTES + 1)
        incoming, messages = ingest.receive(
            fmt=self.fmt,
            body=body,
            content_type=request.META.get("CONTENT_TYPE", ""),
            caller=user,
            site=site,
        )
        if messages is None:
            data, status = _answer(incoming)
            return Response(data, status=status)
        return Response({"results": [_answer(message)[0] for message in messages]}, status=200)


class Hl7ResultView(ResultIngestionView):
    fmt = IncomingResult.Format.HL7V2


class FhirResultView(ResultIngestionView):
    fmt = IncomingResult.Format.FHIR


class MatchSerializer(serializers.Serializer):
    exam = serializers.PrimaryKeyRelatedField(queryset=PendingExam.objects.none())


class DismissSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class IncomingResultViewSet(
    AuditedListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every message received (`/results/`), and the quarantine to resolve."""

    serializer_class = IncomingSerializer
    filterset_fields = ["outcome", "format", "site"]
    lookup_value_regex = r"\d+"
    audit_name = "incoming_results"

    def get_queryset(self):
        return incoming_results_for(self.request.user).order_by("-received_at", "-pk")


class QuarantineViewSet(IncomingResultViewSet):
    audit_name = "quarantine"
    permission_classes = [IsAuthenticated, ObjectRulesPermission]
    object_permissions = {
        "match": "continuity.resolve_result",
        "dismiss": "continuity.resolve_result",
    }

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            # A replayed message stays with its original: one line to resolve.
            .filter(
                outcome=IncomingResult.Outcome.QUARANTINED,
                resolved_at__isnull=True,
                replay_of__isnull=True,
            )
        )

    @extend_schema(request=MatchSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def match(self, request, pk=None):
        incoming = self.get_object()
        body = MatchSerializer(data=request.data)
        body.fields["exam"].queryset = PendingExam.objects.visible_to(request.user).filter(
            site__in=HostSite.objects.staffed_by(request.user)
        )
        body.is_valid(raise_exception=True)
        incoming = ingest.quarantine_match(
            incoming=incoming, exam=body.validated_data["exam"], by=request.user
        )
        return Response(IncomingSerializer(incoming).data)

    @extend_schema(request=DismissSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        incoming = self.get_object()
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incoming = ingest.quarantine_dismiss(
            incoming=incoming, by=request.user, note=body.validated_data["note"]
        )
        return Response(IncomingSerializer(incoming).data)


# --- Tasks ------------------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    assignee_name = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpTask
        fields = [
            "id", "site", "exam", "incoming", "kind", "title", "assignee", "assignee_name",
            "due_at", "priority", "status", "escalation_level", "escalated_at", "overdue",
            "note", "created_at", "done_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_assignee_name(self, task) -> str | None:
        return str(task.assignee) if task.assignee_id else None

    def get_overdue(self, task) -> bool:
        return task.is_overdue()


class TaskFilter(django_filters.FilterSet):
    assignee = django_filters.CharFilter(method="filter_assignee")
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = FollowUpTask
        fields = ["status", "site", "kind", "priority", "escalation_level", "exam"]

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        return queryset.filter(assignee_id=value) if value.isdigit() else queryset.none()

    def filter_overdue(self, queryset, name, value):
        overdue = FollowUpTask.overdue_q(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class DoneSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=2000)


class TaskViewSet(
    AuditedListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Follow-up tasks, urgent first then by due time."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    audit_name = "tasks"
    permission_classes = [IsAuthenticated, ObjectRulesPermission]
    object_permissions = {
        "start": "continuity.act_on_task",
        "done": "continuity.act_on_task",
        "contact_prescriber": "continuity.act_on_task",
    }

    def get_queryset(self):
        return (
            FollowUpTask.objects.visible_to(self.request.user)
            .select_related("assignee")
            .order_by("-priority", "due_at", "pk")
        )

    def _answer(self, task: FollowUpTask) -> Response:
        return Response(TaskSerializer(self.get_queryset().get(pk=task.pk)).data)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(services.task_start(task=self.get_object(), by=request.user))

    @extend_schema(request=DoneSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        task = self.get_object()
        body = DoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.task_done(task=task, by=request.user, note=body.validated_data.get("note", ""))
        return self._answer(task)

    @extend_schema(request=QuestionSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"], url_path="contact-prescriber")
    def contact_prescriber(self, request, pk=None):
        task = self.get_object()
        body = QuestionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.contact_prescriber(
            task=task, by=request.user, question=body.validated_data["question"]
        )
        return self._answer(task)


# --- Contact requests -------------------------------------------------------------------------


class ContactRequestSerializer(serializers.ModelSerializer):
    exam = serializers.IntegerField(source="task.exam_id", read_only=True)
    site = serializers.IntegerField(source="task.site_id", read_only=True)

    class Meta:
        model = ContactRequest
        fields = [
            "id", "task", "exam", "site", "volunteer", "asked_by", "question", "asked_at",
            "due_at", "status", "answer", "answered_at",
        ]  # fmt: skip
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=4000)


class ContactRequestViewSet(
    AuditedListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Questions to prescribing volunteers; a volunteer sees those addressed to it."""

    serializer_class = ContactRequestSerializer
    filterset_fields = ["status", "task", "volunteer"]
    audit_name = "contact_requests"
    permission_classes = [IsAuthenticated, ObjectRulesPermission]
    object_permissions = {"answer": "continuity.answer_contact"}

    def get_queryset(self):
        return (
            ContactRequest.objects.visible_to(self.request.user)
            .select_related("task")
            .order_by("-asked_at", "-pk")
        )

    @extend_schema(request=AnswerSerializer, responses=ContactRequestSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        contact = self.get_object()
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contact = services.contact_answer(
            request=contact, by=request.user, answer=body.validated_data["answer"]
        )
        return Response(ContactRequestSerializer(self.get_queryset().get(pk=contact.pk)).data)


# --- Handovers --------------------------------------------------------------------------------


class HandoverSerializer(serializers.ModelSerializer):
    vacation = serializers.PrimaryKeyRelatedField(queryset=Vacation.objects.none())
    site = serializers.IntegerField(source="vacation.site_id", read_only=True)
    patient_refs = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=100
    )

    class Meta:
        model = Handover
        fields = ["id", "vacation", "site", "author", "text", "patient_refs", "created_at"]
        read_only_fields = ["author", "created_at"]
        extra_kwargs = {"text": {"validators": []}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["vacation"].queryset = Vacation.objects.visible_to(request.user)


class HandoverFilter(django_filters.FilterSet):
    site = django_filters.NumberFilter(field_name="vacation__site")

    class Meta:
        model = Handover
        fields = ["vacation", "site"]


class HandoverViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Handovers, latest first; every reading is recorded (who, when)."""

    serializer_class = HandoverSerializer
    filterset_class = HandoverFilter

    def get_queryset(self):
        return Handover.objects.visible_to(self.request.user).select_related("vacation")

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        services.record_reads(page, reader=request.user)
        record_access(request, "handovers:list", count=len(page))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        handover = self.get_object()
        services.record_reads([handover], reader=request.user)
        record_access(request, "handover", count=1, object_id=handover.pk)
        return Response(self.get_serializer(handover).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        vacation = data["vacation"]
        if not allowed(request.user, "continuity.write_handover", vacation):
            raise PermissionDenied(_("Only the day's volunteer or the site's staff write it."))
        handover = services.handover_write(
            vacation=vacation,
            by=request.user,
            text=data["text"],
            patient_refs=data.get("patient_refs", []),
        )
        return Response(self.get_serializer(handover).data, status=201)


__all__ = [
    "ContactRequestViewSet",
    "ExamViewSet",
    "FhirResultView",
    "HandoverViewSet",
    "Hl7ResultView",
    "IncomingResultViewSet",
    "QuarantineViewSet",
    "TaskViewSet",
    "VacationViewSet",
]
