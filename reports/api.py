"""`/api/v1/reports/…` (API.md § Reports): one view class, each report a subclass naming its
selector. JSON is a paginated list of the table's rows (plus `totals` and the period);
`?format=csv` (`&sep=;`) and `?format=xlsx` — or the `Accept` header of either type — answer
the whole table as a download, the CSV streamed. The place narrows with
`?region=&department=&territory=&site=` within the caller's scope (404 outside it).
"""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import require
from config.api import Pagination, PDFRenderer
from reports import exports, indemnities, services
from reports.models import Statement
from reports.periods import MonthForm, api_errors
from reports.scope import Place, place_for
from reports.tables import Column, Table
from sites.models import Territory


class CSVRenderer(PDFRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(PDFRenderer):
    media_type = exports.XLSX_TYPE
    format = "xlsx"


PLACE_PARAMETERS = [
    OpenApiParameter(name, str, description=f"Narrow to this {name} (within your scope).")
    for name in ("region", "department", "territory", "site")
]
EXPORT_PARAMETERS = [
    OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
    OpenApiParameter("sep", str, enum=[",", ";"], description="CSV separator (default `,`)."),
]

# Every cell may be null: a rate without a need, a population unknown, the totals' names.
_FIELD_OF_KIND = {
    "int": serializers.IntegerField,
    "id": serializers.CharField,
    "decimal": serializers.FloatField,
    "percent": serializers.FloatField,
    "money": lambda **kw: serializers.DecimalField(max_digits=12, decimal_places=2, **kw),
    "text": serializers.CharField,
    "date": serializers.DateField,
    "bool": serializers.BooleanField,
}


def json_value(value, kind: str):
    """A cell as API.md wants it: money a decimal string, rates and days numbers."""
    if value is None:
        return None
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if kind in ("decimal", "percent"):
        return float(round(Decimal(value), 4))
    if kind == "date":
        return value.isoformat()
    return value


def report_schema(name: str, columns: list[Column], *, parameters=()):
    """The OpenAPI description of a report, from its columns."""
    row = inline_serializer(
        f"{name.title()}ReportRow",
        {c.key: _FIELD_OF_KIND[c.kind](allow_null=True) for c in columns},
    )
    # The totals sum the figures only: a name or an id has no total.
    totals = inline_serializer(
        f"{name.title()}ReportTotals",
        {c.key: _FIELD_OF_KIND[c.kind](required=False, allow_null=True) for c in columns},
    )
    page = inline_serializer(
        f"{name.title()}Report",
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": row.__class__(many=True),
            "totals": totals.__class__(allow_null=True),
        },
    )
    return extend_schema(
        parameters=[*parameters, *PLACE_PARAMETERS, *EXPORT_PARAMETERS],
        responses={
            200: page,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.XLSX_TYPE): OpenApiTypes.BINARY,
        },
    )


class ReportView(APIView):
    """Subclasses set `name` and implement `table(request, place) -> Table`."""

    name = ""
    permission_classes = [IsAuthenticated]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer, XLSXRenderer]

    def table(self, request, place: Place) -> Table:  # pragma: no cover - abstract
        raise NotImplementedError

    def filename(self, table: Table, place: Place) -> str:
        period = "-".join(str(v) for v in table.meta.values() if v)
        return "-".join(p for p in ("releve", table.name, place.slug, period) if p)

    def get(self, request):
        require(request.user, "sites.pilot")
        place = place_for(request.user, request.query_params)
        table = self.table(request, place)
        fmt = request.accepted_renderer.format
        if fmt == "csv":
            sep = exports.SEPARATORS.get(request.query_params.get("sep", ","), ",")
            return exports.csv_response(table, filename=self.filename(table, place), sep=sep)
        if fmt == "xlsx":
            return exports.xlsx_response(table, filename=self.filename(table, place))
        paginator = Pagination()
        rows = paginator.paginate_queryset(list(table.rows), request, view=self)
        # The columns only: a row's other keys (`url`, `links`) are the page's.
        kinds = {c.key: c.kind for c in table.columns}
        body = paginator.get_paginated_response(
            [{k: json_value(row.get(k), kind) for k, kind in kinds.items()} for row in rows]
        ).data
        totals = table.totals
        body["totals"] = (
            None
            if totals is None
            else {k: json_value(totals.get(k), kind) for k, kind in kinds.items()}
        )
        for key, value in table.meta.items():
            body[key] = json_value(value, "date") if hasattr(value, "isoformat") else value
        return Response(body)


# --- Indemnities (issue 11 § money) -------------------------------------------------------------


def _month_or_400(data) -> Date:
    form = MonthForm(data)
    if not form.is_valid():
        raise ValidationError(api_errors(form))
    return form.month_value()


class IndemnitiesReport(ReportView):
    """`GET /api/v1/reports/indemnities/?month=YYYY-MM` (default last month): one row per
    volunteer and territory (a volunteer who worked in two territories has two rows, each with
    its territory's statement status), closed days only."""

    name = "indemnities"

    def table(self, request, place: Place) -> Table:
        return indemnities.volunteer_table(place, _month_or_400(request.query_params))

    @report_schema(
        "indemnities",
        indemnities.VOLUNTEER_COLUMNS,
        parameters=[OpenApiParameter("month", str, description="YYYY-MM (default: last month).")],
    )
    def get(self, request):
        return super().get(request)


class TerritoryStatementSerializer(serializers.ModelSerializer):
    month = serializers.SerializerMethodField()
    territory_name = serializers.CharField(source="territory.name", read_only=True)
    validated_by = serializers.SerializerMethodField()
    paid_by = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = [
            "territory", "territory_name", "month", "status", "validated_by", "validated_at",
            "validated_days", "validated_amount", "paid_by", "paid_at", "payment_reference",
        ]  # fmt: skip

    def get_month(self, statement) -> str:
        return indemnities.month_label(statement.month)

    def get_validated_by(self, statement) -> str | None:
        return statement.validated_by.get_full_name() if statement.validated_by else None

    def get_paid_by(self, statement) -> str | None:
        return statement.paid_by.get_full_name() if statement.paid_by else None


class StatementStepSerializer(serializers.Serializer):
    territory = serializers.IntegerField()
    month = serializers.RegexField(r"^\d{4}-\d{2}$", help_text="YYYY-MM")


class StatementPaySerializer(StatementStepSerializer):
    reference = serializers.CharField(max_length=100)


class _StatementStepView(APIView):
    """`POST {"territory", "month"}`: one step of a territory's statement. The territory is
    looked up in the caller's pilot scope (404 outside it), the permission asked (403), the
    service decides the order of the steps (409 `invalid_transition`)."""

    permission_classes = [IsAuthenticated]
    body = StatementStepSerializer
    perm = ""

    def step(self, request, territory, month, data) -> Statement:  # pragma: no cover
        raise NotImplementedError

    def post(self, request):
        require(request.user, "sites.pilot")
        body = self.body(data=request.data)
        body.is_valid(raise_exception=True)
        month = _month_or_400({"month": body.validated_data["month"]})
        territory = (
            Territory.objects.piloted_by(request.user)
            .select_related("department")
            .filter(pk=body.validated_data["territory"])
            .first()
        )
        if territory is None:
            raise NotFound
        require(request.user, self.perm, territory)
        statement = self.step(request, territory, month, body.validated_data)
        return Response(TerritoryStatementSerializer(statement).data)


class StatementValidateView(_StatementStepView):
    """The territory manager validates the month's closed days of its territory."""

    perm = "reports.validate_statement"

    @extend_schema(request=StatementStepSerializer, responses=TerritoryStatementSerializer)
    def post(self, request):
        return super().post(request)

    def step(self, request, territory, month, data) -> Statement:
        return services.statement_validate(territory=territory, month=month, by=request.user)


class StatementReopenView(_StatementStepView):
    """The territory manager or the ARS sends a validated statement back to draft."""

    perm = "reports.reopen_statement"

    @extend_schema(request=StatementStepSerializer, responses=TerritoryStatementSerializer)
    def post(self, request):
        return super().post(request)

    def step(self, request, territory, month, data) -> Statement:
        return services.statement_reopen(
            statement=services.statement_for(territory, month), by=request.user
        )


class StatementPayView(_StatementStepView):
    """The ARS records the payment of a validated statement, with its reference."""

    perm = "reports.pay_statement"
    body = StatementPaySerializer

    @extend_schema(request=StatementPaySerializer, responses=TerritoryStatementSerializer)
    def post(self, request):
        return super().post(request)

    def step(self, request, territory, month, data) -> Statement:
        return services.statement_pay(
            statement=services.statement_for(territory, month),
            by=request.user,
            reference=data["reference"],
        )
