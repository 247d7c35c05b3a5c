from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import ObjectRulesPermission, allowed
from config.api import PDFRenderer
from sites.models import HostSite
from vacations import services
from vacations.models import Vacation
from vacations.selectors import bookable_by
from vacations.statements import monthly_statement, parse_month, statement_pdf
from volunteers.models import Period, Volunteer


class VacationSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.SerializerMethodField()
    period = serializers.ChoiceField(choices=Period.choices, default=Period.DAY)
    site = serializers.PrimaryKeyRelatedField(queryset=HostSite.objects.none())
    dates = serializers.ListField(
        child=serializers.DateField(), write_only=True, required=False, max_length=62,
        help_text="Open several days at once (instead of `date`).",
    )  # fmt: skip
    date = serializers.DateField(required=False)

    class Meta:
        model = Vacation
        fields = [
            "id", "site", "date", "dates", "period", "status", "volunteer", "volunteer_name",
            "consultation_minutes", "consultations_count", "indemnity", "cancellation_reason",
        ]  # fmt: skip
        read_only_fields = [
            "status", "volunteer", "consultation_minutes", "consultations_count", "indemnity",
            "cancellation_reason",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A day opens only at a site where the caller works.
            self.fields["site"].queryset = HostSite.objects.in_scope_of(request.user)

    def get_volunteer_name(self, vacation) -> str | None:
        return vacation.volunteer.full_name if vacation.volunteer_id else None

    def validate(self, attrs):
        if not attrs.get("date") and not attrs.get("dates"):
            raise ValidationError({"date": [_("This field is required.")]})
        return attrs


class BookSerializer(serializers.Serializer):
    # The view narrows it to the volunteers the caller may name (`selectors.bookable_by`).
    volunteer = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none())


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CompleteSerializer(serializers.Serializer):
    consultations_count = serializers.IntegerField(min_value=0, max_value=200)
    no_exams = serializers.BooleanField(required=False, default=False)


class VacationFilter(django_filters.FilterSet):
    territory = django_filters.NumberFilter(field_name="site__territory")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Vacation
        fields = ["site", "volunteer", "territory", "status", "period", "date_after", "date_before"]


class VacationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Vacation days and their transitions (409 with a stable code when a rule refuses)."""

    serializer_class = VacationSerializer
    filterset_class = VacationFilter
    permission_classes = [IsAuthenticated, ObjectRulesPermission]
    object_permissions = {
        "book": "vacations.book_day",
        "decline": "vacations.book_day",
        "cancel": "vacations.cancel_day",
        "no_show": "vacations.cancel_day",
        "complete": "vacations.close_day",
        "request_day": "vacations.request_day",
        "withdraw": "vacations.withdraw_day",
    }
    # The transition that closes a day. The routed viewset is continuity's subclass, which
    # puts the closure gate (exams listed, handover written) in front of it: DESIGN.md
    # § Layout, vacations never imports continuity.
    close_day = staticmethod(services.vacation_complete)

    def get_queryset(self):
        return (
            Vacation.objects.visible_to(self.request.user)
            .select_related("volunteer__user", "site")
            .order_by("date", "starts_at", "pk")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not allowed(request.user, "vacations.open_day", data["site"]):
            raise PermissionDenied(_("Only the site's secretary opens days."))
        dates = data.get("dates") or [data["date"]]
        opened = services.vacations_open(
            site=data["site"], dates=dates, period=data["period"], by=request.user
        )
        body = VacationSerializer(opened, many=True, context=self.get_serializer_context()).data
        return Response(body if len(opened) > 1 else body[0], status=201)

    # --- who may do what on a visible day ---------------------------------------------------

    def _my_profile(self) -> Volunteer:
        volunteer = Volunteer.objects.filter(user=self.request.user).first()
        if volunteer is None:
            raise PermissionDenied(_("Create your volunteer profile first."))
        return volunteer

    def _answer(self, vacation: Vacation) -> Response:
        # The day as the caller just left it, even if it no longer sees it (a volunteer who
        # withdrew from a day of a site since suspended): not `get_queryset()`.
        days = Vacation.objects.select_related("volunteer__user", "site")
        return Response(VacationSerializer(days.get(pk=vacation.pk)).data)

    # --- transitions --------------------------------------------------------------------------

    @extend_schema(request=None, responses=VacationSerializer)
    @action(detail=True, methods=["post"], url_path="request", url_name="request")
    def request_day(self, request, pk=None):
        # Not named `request`: that would shadow the view's `self.request`.
        vacation = self.get_object()
        return self._answer(
            services.vacation_request(vacation=vacation, volunteer=self._my_profile())
        )

    @extend_schema(request=BookSerializer, responses=VacationSerializer)
    @action(detail=True, methods=["post"])
    def book(self, request, pk=None):
        vacation = self.get_object()
        body = BookSerializer(data=request.data)
        body.fields["volunteer"].queryset = bookable_by(request.user, vacation)
        body.is_valid(raise_exception=True)
        return self._answer(
            services.vacation_book(
                vacation=vacation, volunteer=body.validated_data["volunteer"], by=request.user
            )
        )

    @extend_schema(request=None, responses=VacationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._answer(services.vacation_decline(vacation=self.get_object(), by=request.user))

    @extend_schema(request=None, responses=VacationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        vacation = self.get_object()
        return self._answer(
            services.vacation_withdraw(vacation=vacation, volunteer=self._my_profile())
        )

    @extend_schema(request=CancelSerializer, responses=VacationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        vacation = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.vacation_cancel(
            vacation=vacation, by=request.user, reason=body.validated_data["reason"]
        )
        return self._answer(vacation)

    @extend_schema(request=CompleteSerializer, responses=VacationSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        vacation = self.get_object()
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            self.close_day(
                vacation=vacation,
                by=request.user,
                consultations_count=body.validated_data["consultations_count"],
                no_exams=body.validated_data["no_exams"],
            )
        )

    @extend_schema(request=None, responses=VacationSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._answer(services.vacation_no_show(vacation=self.get_object(), by=request.user))


class StatementLineSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name")

    class Meta:
        model = Vacation
        fields = ["id", "date", "period", "site", "site_name", "consultations_count", "indemnity"]


class StatementSerializer(serializers.Serializer):
    month = serializers.SerializerMethodField()
    volunteer = serializers.IntegerField(source="volunteer.pk")
    days = serializers.DecimalField(max_digits=4, decimal_places=1)
    amount = serializers.DecimalField(max_digits=8, decimal_places=2)
    consultations = serializers.IntegerField()
    lines = StatementLineSerializer(many=True)

    def get_month(self, statement) -> str:
        return statement.month.strftime("%Y-%m")


class MyStatementView(APIView):
    """`GET /api/v1/volunteers/me/statement/?month=YYYY-MM`: days done and their amount."""

    def _statement(self, request):
        volunteer = Volunteer.objects.filter(user=request.user).select_related("user").first()
        if volunteer is None:
            raise NotFound(_("You have no volunteer profile."))
        try:
            month = parse_month(request.query_params.get("month"))
        except ValueError as exc:
            raise ValidationError({"month": [str(exc)]}) from exc
        return monthly_statement(volunteer, month)

    @extend_schema(
        parameters=[OpenApiParameter("month", str, required=True, description="YYYY-MM")],
        responses=StatementSerializer,
    )
    def get(self, request):
        return Response(StatementSerializer(self._statement(request)).data)


class MyStatementPdfView(MyStatementView):
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, PDFRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            OpenApiParameter("format", exclude=True),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        return statement_pdf(self._statement(request))
