"""A report's table: the one shape the pages, the API, the CSV and the XLSX all read.

A selector (`reports.coverage`, `reports.continuity`, `reports.indemnities`) returns a `Table`:
its columns (the API field name, the heading people read, the kind of value) and its rows
(dicts keyed by column). The page renders it, the API serialises `rows`, the exports write
it: one definition of every figure, whatever the door.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext


@dataclass(frozen=True)
class Column:
    key: str  # the API field name (API.md), also the dict key of each row
    label: str  # lazy: the heading, in the reader's language (French in exports)
    kind: str = "int"  # int | decimal | percent | money | text | date | id
    # Columns kept out of the page's table (ids, codes the API needs) but in every export.
    hidden: bool = False


@dataclass
class Table:
    name: str  # coverage | continuity | indemnities: the export's file name starts with it
    columns: Sequence[Column]
    rows: Iterable[dict]
    totals: dict | None = None
    meta: dict = field(default_factory=dict)  # from / to / month...: the API's extra fields

    @property
    def visible_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.hidden]


def display(value, kind: str) -> str:
    """A value as the page shows it (French decimals through the active locale)."""
    if value is None:
        return "—"
    if kind == "bool":
        return gettext("Yes") if value else gettext("No")
    if kind == "percent":
        return f"{number_format(Decimal(value) * 100, 0)} %"
    if kind == "money":
        return f"{number_format(value, 2, force_grouping=True)} €"
    if kind == "decimal":
        return number_format(value, 1 if Decimal(value) % 1 else 0)
    if kind == "int":
        return number_format(value, 0, force_grouping=True)
    return str(value)
