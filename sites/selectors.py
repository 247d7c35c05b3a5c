"""Reads of the sites app that are more than one queryset call (STYLE.md: selectors read)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import CharField, Exists, OuterRef, Prefetch, Subquery, Value
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.history_words import people_in_words, value_in_words
from accounts.models import User
from sites.models import HostSite, InfoSheet, KeyContact, SheetEquipment, SheetReadiness
from sites.models.places import HostSiteQuerySet
from sites.models.sheets import PracticeMode


def display_value(
    model_field: models.Field, value: Any, people: Mapping[int, str] | None = None
) -> str:
    """A field's value as the pages show it ("" when empty): `value_in_words`, with the
    sheet's own two cases (no need declared yet; the list of practice modes)."""
    if model_field.name == "days_wanted_per_month" and value == 0:
        return ""  # 0: no need declared yet
    if model_field.name == "practice_modes" and isinstance(value, list):
        labels = dict(PracticeMode.choices)
        return ", ".join(str(labels.get(mode, mode)) for mode in value)
    return value_in_words(model_field, value, people)


# --- The whole sheet: the catalogue's page and the PDF show the same sections --------------------


def with_sheet_details(queryset: HostSiteQuerySet) -> HostSiteQuerySet:
    """`queryset` with everything a full sheet shows, in a constant number of queries.

    Adds `is_public` and `parent_is_public` (whether the site, and its pôle mère, are in the
    public catalogue) and the readiness counts of `with_readiness()`. A site without a sheet
    yet still loads (its staff may preview it): `sheet_context` gives it `sheet=None`.
    """
    return (
        queryset.with_readiness()
        .annotate(
            is_public=Exists(HostSite.objects.public().filter(pk=OuterRef("pk"))),
            parent_is_public=Exists(HostSite.objects.public().filter(pk=OuterRef("parent"))),
        )
        .select_related("info_sheet", "territory__department__region", "parent")
        .prefetch_related(
            "info_sheet__contacts",
            Prefetch(
                "info_sheet__equipment",
                queryset=SheetEquipment.objects.select_related("item"),
            ),
            Prefetch(
                "info_sheet__readiness",
                queryset=SheetReadiness.objects.select_related("item"),
            ),
        )
    )


def sheet_context(site: HostSite) -> dict[str, Any]:
    """What the sheet templates show, from a site fetched through `with_sheet_details`.

    A published sheet shows its validated version, whoever reads it (changes waiting for
    validation stay on the staff pages); an unpublished one, previewed by the people in charge,
    its working copy.
    """
    from sites.revisions import is_published, show_published, working_version

    sheet = getattr(site, "info_sheet", None)
    version = None
    if is_published(sheet):
        version = show_published(site)
    elif sheet is not None:
        version = working_version(sheet)
    equipment = version.equipment if version else []
    return {
        "site": site,
        "sheet": version.sheet if version else None,
        "contacts": version.contacts if version else [],
        # The national base list first, then what host sites asked for on top of it.
        "equipment_groups": [
            {
                "title": _("Base list"),
                "rows": [row for row in equipment if not row.item.field_addition],
            },
            {
                "title": _("Additions requested by the field"),
                "rows": [row for row in equipment if row.item.field_addition],
            },
        ],
        "readiness": version.readiness if version else [],
        # Live, outside the validated version: the staff keep it current (`sites.services`).
        "accommodation_offers": list(site.accommodation_offers.all()),
    }


# --- History of a site and its sheet ---------------------------------------------------------

# model, the field that ties its history to the site's sheet (or site), related rows to join
HISTORY_SOURCES: dict[str, tuple[type[models.Model], str, tuple[str, ...]]] = {
    "site": (HostSite, "id", ("territory", "parent")),
    "sheet": (InfoSheet, "id", ("published_by",)),
    "contact": (KeyContact, "sheet_id", ()),
    "equipment": (SheetEquipment, "sheet_id", ("item",)),
    "readiness": (SheetReadiness, "sheet_id", ("item",)),
}
# Links between rows, and ordering: no news for a reader.
HISTORY_HIDDEN_FIELDS = frozenset({"id", "site", "sheet", "item", "position"})


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    date: datetime
    user: Any
    author: str  # "Marie Dupont (site secretary)"; "" when the platform did it (a job)
    kind: str  # "+", "~" or "-"
    kind_label: str
    source: str
    subject: str
    changes: list[Change]


def history_index(site: HostSite, sheet: InfoSheet | None):
    """(source, history_id, history_date) of every record about the site, newest first."""
    parts = []
    for source, (model, key, _related) in HISTORY_SOURCES.items():
        if source != "site" and sheet is None:
            continue
        owner = site.pk if source == "site" else sheet.pk
        parts.append(
            model.history.filter(**{key: owner})
            .annotate(source=Value(source, output_field=CharField()))
            .values("history_id", "history_date", "source")
            .order_by()
        )
    return parts[0].union(*parts[1:], all=True).order_by("-history_date", "-history_id")


def history_entries(index_rows: Iterable[dict]) -> list[HistoryEntry]:
    """The page's records with their diffs: two queries per kind of record, at most."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in index_rows:
        wanted[row["source"]].append(row["history_id"])
    records: dict[tuple[str, int], Any] = {}
    for source, ids in wanted.items():
        model, _key, related = HISTORY_SOURCES[source]
        previous = (
            model.history.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        found = list(
            model.history.filter(history_id__in=ids)
            .select_related("history_user", *related)
            .annotate(previous_id=Subquery(previous))
        )
        prev_ids = [r.previous_id for r in found if r.history_type == "~" and r.previous_id]
        prevs = (
            {
                p.history_id: p
                for p in model.history.filter(history_id__in=prev_ids).select_related(*related)
            }
            if prev_ids
            else {}
        )
        for record in found:
            records[source, record.history_id] = (record, prevs.get(record.previous_id))
    people = people_in_words(_people_ids(records.values()))
    entries = []
    for row in index_rows:
        record, prev = records[row["source"], row["history_id"]]
        entries.append(_history_entry(row["source"], record, prev, people))
    return entries


def _people_ids(pairs: Iterable[tuple[Any, Any]]) -> set[int]:
    """Who the records name: their authors, and the people their fields point to."""
    ids = set()
    for pair in pairs:
        for record in pair:
            if record is None:
                continue
            ids.add(record.history_user_id)
            ids.update(
                getattr(record, f.attname)
                for f in record.instance_type._meta.concrete_fields
                if f.is_relation and f.related_model is User
            )
    ids.discard(None)
    return ids


def _history_entry(source: str, record, prev, people: Mapping[int, str]) -> HistoryEntry:
    model = record.instance_type
    shown = [
        f.name for f in record.tracked_fields if f.editable and f.name not in HISTORY_HIDDEN_FIELDS
    ]
    if record.history_type == "~" and prev is not None:
        delta = record.diff_against(prev, included_fields=shown, foreign_keys_are_objs=True)
        changes = [_change(model, c.field, c.old, c.new, people) for c in delta.changes]
    else:
        # Created: what it was created with; deleted: what it held last.
        values = [(name, getattr(record, name)) for name in shown]
        values = [(name, value) for name, value in values if value not in (None, "", [], False)]
        if record.history_type == "-":
            changes = [_change(model, name, value, None, people) for name, value in values]
        else:
            changes = [_change(model, name, None, value, people) for name, value in values]
    return HistoryEntry(
        date=record.history_date,
        user=record.history_user,
        author=people.get(record.history_user_id, ""),
        kind=record.history_type,
        kind_label=record.get_history_type_display(),
        source=capfirst(model._meta.verbose_name),
        subject=_history_subject(source, record),
        changes=changes,
    )


def _change(
    model: type[models.Model], name: str, old: Any, new: Any, people: Mapping[int, str]
) -> Change:
    model_field = model._meta.get_field(name)
    return Change(
        field=name,
        label=capfirst(model_field.verbose_name),
        old=display_value(model_field, old, people),
        new=display_value(model_field, new, people),
    )


def _history_subject(source: str, record) -> str:
    if source == "site":
        return record.name
    if source == "sheet":
        return ""
    if source == "contact":
        return f"{record.get_service_display()} — {record.name}"
    return record.item.label if record.item else ""
