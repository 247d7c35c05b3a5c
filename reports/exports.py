"""CSV and XLSX of a report's `Table` (API.md § Reports).

CSV: UTF-8 with a byte-order mark (so a spreadsheet opens accents right), French headings,
`,` by default or `;` (`&sep=;`, then with decimal commas, as French spreadsheets expect);
streamed row by row, so a national export never sits in memory. XLSX: openpyxl's write-only
workbook, numbers as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import translation

from reports.tables import Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEPARATORS = {",": ",", ";": ";", "semicolon": ";", "comma": ","}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _headings(table: Table) -> list[str]:
    with translation.override("fr"):
        return [str(column.label) for column in table.columns]


def _csv_value(value, *, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (Decimal, float)):
        text = format(Decimal(str(value)).normalize(), "f")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def csv_lines(table: Table, *, sep: str = ",") -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=sep, lineterminator="\r\n")
    decimal_comma = sep == ";"
    yield "\ufeff" + writer.writerow(_headings(table))
    keys = [column.key for column in table.columns]
    for row in table.rows:
        yield writer.writerow([_csv_value(row.get(k), decimal_comma=decimal_comma) for k in keys])


def csv_response(table: Table, *, filename: str, sep: str = ",") -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(table, sep=sep), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _xlsx_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def xlsx_bytes(table: Table) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    sheet.append(_headings(table))
    keys = [column.key for column in table.columns]
    for row in table.rows:
        sheet.append([_xlsx_value(row.get(k)) for k in keys])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(table: Table, *, filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(table), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
