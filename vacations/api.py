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
from config.querying import BranchedRows
from sites.models import HostSite
from vacations import expenses as day_expenses
from vacations import services
from vacations.models import Expense, NightRequest, Vacation
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


class NightAskSerializer(serializers.Serializer):
    """Nights at one of the site's accommodation offers, asked with the day request."""

    offer = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="An id from the sheet's `accommodation_offers`."
    )
    nights = serializers.ListField(
        child=serializers.DateField(),
        min_length=1,
        max_length=2,
        help_text="The night before the day and/or the night of the day.",
    )
    note = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")


class RequestSerializer(serializers.Serializer):
    accommodation = NightAskSerializer(required=False, allow_null=True)


class NightSerializer(serializers.ModelSerializer):
    offer_kind = serializers.CharField(source="offer.kind", read_only=True, default=None)
    offer_address = serializers.CharField(source="offer.address", read_only=True, default=None)

    class Meta:
        model = NightRequest
        fields = [
            "id", "vacation", "offer", "offer_kind", "offer_address", "night", "note", "status",
            "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class ExpenseSerializer(serializers.ModelSerializer):
    """A day's expense. `amount`: for a car trip, computed from `km` at the settings' rate
    per kilometre (read-only then); tickets and accommodation give it."""

    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    km = serializers.IntegerField(
        min_value=0, max_value=day_expenses.MAX_KM, required=False, allow_null=True
    )
    ticket_kind = serializers.ChoiceField(
        choices=Expense.TicketKind.choices, required=False, allow_blank=True
    )

    class Meta:
        model = Expense
        fields = ["id", "vacation", "kind", "ticket_kind", "km", "amount", "receipt_note"]
        read_only_fields = ["id", "vacation"]
        extra_kwargs = {"kind": {"required": False}, "receipt_note": {"required": False}}


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
        "confirm_night": "vacations.decide_night",
        "decline_night": "vacations.decide_night",
    }
    # The transition that closes a day. The routed viewset is continuity's subclass, which
    # puts the closure gate (exams listed, handover written) in front of it: DESIGN.md
    # § Layout, vacations never imports continuity.
    close_day = staticmethod(services.vacation_complete)

    ORDERING = ("date", "starts_at", "id")

    def get_queryset(self):
        return (
            Vacation.objects.visible_to(self.request.user)
            .select_related("volunteer__user", "site")
            .order_by(*self.ORDERING)
        )

    def paginate_queryset(self, queryset):
        """A page of each branch of the caller's scope, not the sort of all of them (issue 14:
        every open day of the catalogue is in a volunteer's scope)."""
        user = self.request.user
        if user.is_authenticated and not user.is_superuser:
            queryset = BranchedRows(
                queryset,
                Vacation.objects.visible_branches(user, alone=True),
                self.ORDERING,
                base=self.filter_queryset(Vacation.objects.all()),
            )
        return super().paginate_queryset(queryset)

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

    @extend_schema(request=RequestSerializer, responses=VacationSerializer)
    @action(detail=True, methods=["post"], url_path="request", url_name="request")
    def request_day(self, request, pk=None):
        # Not named `request`: that would shadow the view's `self.request`.
        vacation = self.get_object()
        body = RequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        return self._answer(
            services.vacation_request(
                vacation=vacation,
                volunteer=self._my_profile(),
                accommodation=body.validated_data.get("accommodation"),
            )
        )

    # --- the day's practical side: nights at the site, expenses ----------------------------

    @extend_schema(request=None, responses=NightSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def nights(self, request, pk=None):
        """The nights asked with the day, and the site's answers."""
        vacation = self.get_object()
        return Response(NightSerializer(vacation.nights.select_related("offer"), many=True).data)

    def _decide_night(self, night_id, *, confirm: bool) -> Response:
        vacation = self.get_object()
        night = vacation.nights.filter(pk=night_id).first()
        if night is None:
            raise NotFound()
        night = day_expenses.night_decide(night=night, by=self.request.user, confirm=confirm)
        return Response(NightSerializer(night).data)

    @extend_schema(request=None, responses=NightSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"nights/(?P<night_id>[0-9]+)/confirm",
        url_name="night-confirm",
    )
    def confirm_night(self, request, pk=None, night_id=None):
        """The site's staff confirm a night asked with the day (requested → confirmed)."""
        return self._decide_night(night_id, confirm=True)

    @extend_schema(request=None, responses=NightSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"nights/(?P<night_id>[0-9]+)/decline",
        url_name="night-decline",
    )
    def decline_night(self, request, pk=None, night_id=None):
        """The site's staff decline a night asked with the day (requested → declined)."""
        return self._decide_night(night_id, confirm=False)

    def _own_day(self) -> Vacation:
        vacation = self.get_object()
        if not allowed(self.request.user, "vacations.claim_expenses", vacation):
            raise PermissionDenied(_("Only the day's volunteer enters its expenses."))
        return vacation

    @extend_schema(methods=["GET"], request=None, responses=ExpenseSerializer(many=True))
    @extend_schema(methods=["POST"], request=ExpenseSerializer, responses={201: ExpenseSerializer})
    @action(detail=True, methods=["get", "post"], url_path="expenses", pagination_class=None)
    def expenses(self, request, pk=None):
        """The day's expenses (its volunteer, its site's staff and managers read them); its
        volunteer adds one."""
        if request.method == "GET":
            vacation = self.get_object()
            return Response(ExpenseSerializer(vacation.expenses.all(), many=True).data)
        vacation = self._own_day()
        body = ExpenseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "kind" not in data:
            raise ValidationError({"kind": [_("This field is required.")]})
        expense = day_expenses.expense_add(
            vacation=vacation, by=request.user, **_expense_values(data)
        )
        return Response(ExpenseSerializer(expense).data, status=201)

    @extend_schema(methods=["PATCH"], request=ExpenseSerializer, responses=ExpenseSerializer)
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"expenses/(?P<expense_id>[0-9]+)",
        url_name="expense",
    )
    def expense(self, request, pk=None, expense_id=None):
        """Change or remove one of the day's expenses (its volunteer, until the statement of
        its month is validated: then `409 invalid_transition`)."""
        vacation = self._own_day()
        found = vacation.expenses.filter(pk=expense_id).first()
        if found is None:
            raise NotFound()
        if request.method == "DELETE":
            day_expenses.expense_delete(expense=found, by=request.user)
            return Response(status=204)
        body = ExpenseSerializer(found, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changed = day_expenses.expense_update(
            expense=found, by=request.user, **_expense_values(body.validated_data)
        )
        return Response(ExpenseSerializer(changed).data)

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


def _expense_values(data: dict) -> dict:
    """The serializer's data as `vacations.expenses`' arguments (none is invented)."""
    return {
        name: data[name]
        for name in ("kind", "km", "amount", "ticket_kind", "receipt_note")
        if name in data
    }


class StatementLineSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name")
    expenses = ExpenseSerializer(many=True, read_only=True)

    class Meta:
        model = Vacation
        fields = [
            "id", "date", "period", "site", "site_name", "consultations_count", "indemnity",
            "expenses",
        ]  # fmt: skip


class StatementSerializer(serializers.Serializer):
    month = serializers.SerializerMethodField()
    volunteer = serializers.IntegerField(source="volunteer.pk")
    days = serializers.DecimalField(max_digits=4, decimal_places=1)
    amount = serializers.DecimalField(max_digits=8, decimal_places=2)
    consultations = serializers.IntegerField()
    travel = serializers.DecimalField(max_digits=9, decimal_places=2, help_text="Travel expenses.")
    accommodation = serializers.DecimalField(
        max_digits=9, decimal_places=2, help_text="Accommodation expenses."
    )
    expenses = serializers.DecimalField(max_digits=9, decimal_places=2, help_text="All expenses.")
    total = serializers.DecimalField(
        max_digits=9, decimal_places=2, help_text="Indemnities and expenses."
    )
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
