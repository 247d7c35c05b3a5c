"""`/api/v1/reports/…` (API.md § Reports): one view class, each report a subclass naming its
selector. JSON is a paginated list of the table's rows (plus `totals` and the period);
`?format=csv` (`&sep=;`) and `?format=xlsx` — or the `Accept` header of either type — answer
the whole table as a download, the CSV streamed. The place narrows with
`?region=&department=&territory=&site=` within the caller's scope (404 outside it).
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import require
from config.api import Pagination, PDFRenderer
from reports import exports
from reports.scope import Place, place_for
from reports.tables import Column, Table


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

_FIELD_OF_KIND = {
    "int": serializers.IntegerField,
    "id": serializers.CharField,
    "decimal": partial(serializers.FloatField, allow_null=True),  # e.g. a median of nothing
    "percent": partial(serializers.FloatField, allow_null=True),
    "money": partial(serializers.DecimalField, max_digits=12, decimal_places=2),
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
        {c.key: _FIELD_OF_KIND[c.kind]() for c in columns},
    )
    # The totals hold the figures only (no name, no id): every field is optional there.
    totals = inline_serializer(
        f"{name.title()}ReportTotals",
        {c.key: _FIELD_OF_KIND[c.kind](required=False) for c in columns},
        allow_null=True,
    )
    page = inline_serializer(
        f"{name.title()}Report",
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": row.__class__(many=True),
            "totals": totals,
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
        kinds = {c.key: c.kind for c in table.columns}
        body = paginator.get_paginated_response(
            [{k: json_value(v, kinds.get(k, "text")) for k, v in row.items()} for row in rows]
        ).data
        totals = table.totals
        body["totals"] = (
            None
            if totals is None
            else {k: json_value(v, kinds.get(k, "text")) for k, v in totals.items()}
        )
        for key, value in table.meta.items():
            body[key] = json_value(value, "date") if hasattr(value, "isoformat") else value
        return Response(body)
