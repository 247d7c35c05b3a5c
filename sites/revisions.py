"""The validated version of a sheet, and what changed since (the revision the manager reviews).

`InfoSheet` rows are the working copy; `InfoSheet.published_content` the validated version,
frozen as JSON by `sheet_content` when a manager validates (`services.sheet_publish`). The
public pages, the PDF and the anonymous API read `published_version`; the staff pages the rows.
`sheet_changes` compares the two, field by field and row by row, in words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sites.models import (
    EquipmentItem,
    InfoSheet,
    KeyContact,
    ReadinessItem,
    SheetEquipment,
    SheetReadiness,
)
from sites.selectors import display_value

CONTENT_VERSION = 1
# What the validated version freezes of the sheet itself (the site's identity is not reviewed).
CONTENT_FIELDS = (
    "patients_profile",
    "daily_consultations",
    "practice_modes",
    "team_description",
    "secretariat_description",
    "functioning_description",
    "protocols",
    "information_system",
    "remuneration",
    "accommodation",
    "transport",
    "consultation_minutes",
)


def sheet_content(sheet: InfoSheet) -> dict[str, Any]:
    """The working copy as the JSON a validation freezes (reads the prefetched rows if any)."""
    return {
        "version": CONTENT_VERSION,
        "fields": {name: getattr(sheet, name) for name in CONTENT_FIELDS},
        "contacts": [
            {"service": c.service, "name": c.name, "phone": c.phone, "priority": c.priority}
            for c in sorted(sheet.contacts.all(), key=lambda c: (c.position, c.pk))
        ],
        "equipment": [
            {
                "code": row.item.code,
                "label": row.item.label,
                "field_addition": row.item.field_addition,
                "available": row.available,
            }
            for row in _in_catalogue_order(sheet.equipment.all())
        ],
        "readiness": [
            {
                "code": row.item.code,
                "label": row.item.label,
                "mandatory": row.item.mandatory,
                "status": row.status,
                "note": row.note,
            }
            for row in _in_catalogue_order(sheet.readiness.all())
        ],
    }


def _in_catalogue_order(rows):
    return sorted(rows, key=lambda row: (row.item.position, row.item.code))


# --- A version as the templates and the API read it -----------------------------------------


@dataclass
class SheetVersion:
    """A sheet with its rows: the working copy, or the validated version rebuilt in memory
    (unsaved model instances, so that the same templates and serializers show both)."""

    sheet: InfoSheet
    contacts: list[KeyContact]
    equipment: list[SheetEquipment]
    readiness: list[SheetReadiness]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mandatory = [row for row in self.readiness if row.item.mandatory]
        ok = SheetReadiness.Status.OK
        self.counts = {
            "readiness_mandatory": len(mandatory),
            "readiness_mandatory_ok": sum(row.status == ok for row in mandatory),
            "readiness_applicable": sum(
                row.status != SheetReadiness.Status.NOT_APPLICABLE for row in self.readiness
            ),
            "readiness_ok": sum(row.status == ok for row in self.readiness),
        }


def working_version(sheet: InfoSheet) -> SheetVersion:
    return SheetVersion(
        sheet=sheet,
        contacts=list(sheet.contacts.all()),
        equipment=_in_catalogue_order(sheet.equipment.all()),
        readiness=_in_catalogue_order(sheet.readiness.all()),
    )


def published_version(sheet: InfoSheet) -> SheetVersion:
    """The validated version of a published sheet, without a query (its JSON is on the row)."""
    content = sheet.published_content
    shown = InfoSheet(
        site_id=sheet.site_id,
        status=InfoSheet.Status.PUBLISHED,
        published_at=sheet.published_at,
        published_by_id=sheet.published_by_id,
        submitted_at=sheet.submitted_at,
        updated_at=sheet.published_at or sheet.updated_at,
        **{name: value for name, value in content["fields"].items() if name in CONTENT_FIELDS},
    )
    return SheetVersion(
        sheet=shown,
        contacts=[
            KeyContact(
                service=c["service"], name=c["name"], phone=c["phone"], priority=c["priority"]
            )
            for c in content["contacts"]
        ],
        equipment=[
            SheetEquipment(
                item=EquipmentItem(
                    code=e["code"], label=e["label"], field_addition=e["field_addition"]
                ),
                available=e["available"],
            )
            for e in content["equipment"]
        ],
        readiness=[
            SheetReadiness(
                item=ReadinessItem(code=r["code"], label=r["label"], mandatory=r["mandatory"]),
                status=r["status"],
                note=r["note"],
            )
            for r in content["readiness"]
        ],
    )


def is_published(sheet: InfoSheet | None) -> bool:
    return sheet is not None and sheet.status == InfoSheet.Status.PUBLISHED


def show_published(site, version: SheetVersion | None = None) -> SheetVersion:
    """Make `site` (in memory, never saved) carry its sheet's validated version: its
    `info_sheet` and readiness counts become the published ones, for the public pages and the
    catalogue to show what was validated, not the edits waiting for validation."""
    version = version or published_version(site.info_sheet)
    site.info_sheet = version.sheet
    for name, value in version.counts.items():
        setattr(site, name, value)
    return version


# --- What changed since the validation ------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class RevisionChanges:
    """The working copy against the validated version, in words."""

    fields: list[FieldChange] = field(default_factory=list)
    contacts_added: list[str] = field(default_factory=list)
    contacts_removed: list[str] = field(default_factory=list)
    equipment: list[FieldChange] = field(default_factory=list)
    readiness: list[FieldChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (
                self.fields,
                self.contacts_added,
                self.contacts_removed,
                self.equipment,
                self.readiness,
            )
        )


def sheet_changes(sheet: InfoSheet) -> RevisionChanges:
    """What the validated version says and what the working copy says instead.

    Fields by their label, before → after; contacts added or removed (a changed contact is
    one removed and one added: a reader compares the two lines); equipment and readiness items
    by their label, with the value that changed. A sheet never validated: everything is new.
    """
    before = sheet.published_content or {
        "fields": {},
        "contacts": [],
        "equipment": [],
        "readiness": [],
    }
    after = sheet_content(sheet)
    changes = RevisionChanges()
    for name in CONTENT_FIELDS:
        model_field = InfoSheet._meta.get_field(name)
        old = display_value(model_field, before["fields"].get(name))
        new = display_value(model_field, after["fields"].get(name))
        if old != new:
            changes.fields.append(FieldChange(capfirst(model_field.verbose_name), old, new))
    old_contacts = Counter(_contact_words(c) for c in before["contacts"])
    new_contacts = Counter(_contact_words(c) for c in after["contacts"])
    changes.contacts_removed = sorted((old_contacts - new_contacts).elements())
    changes.contacts_added = sorted((new_contacts - old_contacts).elements())
    changes.equipment = _row_changes(before["equipment"], after["equipment"], _equipment_words)
    changes.readiness = _row_changes(before["readiness"], after["readiness"], _readiness_words)
    return changes


def _contact_words(contact: dict) -> str:
    service = str(dict(KeyContact.Service.choices).get(contact["service"], contact["service"]))
    words = f"{service} — {contact['name']} — {contact['phone']}"
    if contact.get("priority"):
        words += f" ({gettext('priority line')})"
    return words


def _equipment_words(row: dict) -> str:
    return gettext("Available") if row["available"] else gettext("Not available")


def _readiness_words(row: dict) -> str:
    words = str(dict(SheetReadiness.Status.choices).get(row["status"], row["status"]))
    return f"{words} — {row['note']}" if row.get("note") else words


NOT_LISTED = _("Not on the sheet")


def _row_changes(before: list[dict], after: list[dict], words) -> list[FieldChange]:
    old = {row["code"]: row for row in before}
    new = {row["code"]: row for row in after}
    changes = []
    for code in [*new, *(code for code in old if code not in new)]:
        old_words = words(old[code]) if code in old else str(NOT_LISTED)
        new_words = words(new[code]) if code in new else str(NOT_LISTED)
        if old_words != new_words:
            label = (new.get(code) or old[code])["label"]
            changes.append(FieldChange(label, old_words, new_words))
    return changes
