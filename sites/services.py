"""Every write on host sites and information sheets, with its rules (one write path)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.history import save_tracked
from accounts.notifications import notify
from accounts.roles import FOLLOW_UP_ROLES, Role
from sites.catalogues import COURSE_NURSE_ITEM, DERIVED_READINESS
from sites.models import (
    AccommodationOffer,
    Commune,
    EquipmentItem,
    HostSite,
    InfoSheet,
    KeyContact,
    Membership,
    ReadinessItem,
    SheetEquipment,
    SheetReadiness,
    Territory,
)
from sites.models.places import new_calendar_token
from sites.revisions import CONTENT_FIELDS, sheet_content
from sites.validators import POSTAL_CODE

SITE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "parent",
        "territory",
        "address",
        "postal_code",
        "city",
        "phone",
        "email",
        "rooms",
        "status",
        "finess",
        "days_wanted_per_month",
        "latitude",
        "longitude",
    }
)
SHEET_FIELDS = frozenset(CONTENT_FIELDS)  # what a sheet holds is what its version freezes


def _check_parent(site: HostSite) -> None:
    if site.parent_id is None:
        return
    if site.parent_id == site.pk:
        raise ValidationError({"parent": _("A site cannot be its own parent site.")})
    if site.parent.parent_id is not None:
        raise ValidationError({"parent": _("The parent site must itself be a main site.")})
    if site.parent.territory_id != site.territory_id:
        raise ValidationError({"parent": _("The parent site must be in the same territory.")})
    if site.pk and site.children.exists():
        raise ValidationError(
            {"parent": _("This site is the parent of other sites: it cannot have a parent.")}
        )


def ensure_sheet(site: HostSite) -> InfoSheet:
    """The site's sheet, with one row per catalogue item (new items appear as missing)."""
    sheet, _created = InfoSheet.objects.get_or_create(site=site)
    have = set(sheet.equipment.values_list("item_id", flat=True))
    # Two first visits of a new site's page may race here: the unique rows stay unique.
    SheetEquipment.objects.bulk_create(
        (
            SheetEquipment(sheet=sheet, item=item)
            for item in EquipmentItem.objects.exclude(pk__in=have)
        ),
        ignore_conflicts=True,
    )
    have = set(sheet.readiness.values_list("item_id", flat=True))
    new_items = list(ReadinessItem.objects.exclude(pk__in=have))
    SheetReadiness.objects.bulk_create(
        (SheetReadiness(sheet=sheet, item=item) for item in new_items),
        ignore_conflicts=True,
    )
    if any(item.code in DERIVED_READINESS for item in new_items):
        follow_up_readiness_refresh(site_ids=[site.pk])
    return sheet


def follow_up_readiness_refresh(*, site_ids: Iterable[int], by=None) -> int:
    """Store the "course nurse" item of these sites and of their secondary practices as their
    staff make it: `ok` when an active person holds a follow-up role (course nurse or medical
    assistant) at the site or at its pôle mère, else `missing` (seed 000, lines 105-106).

    Never ticked by hand (`sheet_update` refuses it): called when such a membership starts or
    ends (`sites.signals`), a user is deactivated, or a site's parent changes, so that the pages,
    the API and the catalogue's counts read the stored row. Returns how many rows changed; the
    history records each change (the note the staff wrote stays)."""
    ids = set(site_ids)
    if not ids:
        return 0
    ids |= set(HostSite.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    staff = Membership.objects.filter(role__in=FOLLOW_UP_ROLES, user__is_active=True)
    staffed = Exists(
        staff.filter(Q(site=OuterRef("sheet__site")) | Q(site=OuterRef("sheet__site__parent")))
    )
    rows = (
        SheetReadiness.objects.filter(sheet__site_id__in=ids, item__code=COURSE_NURSE_ITEM)
        .annotate(staffed=staffed)
        .select_related("item")
    )
    changed = 0
    for row in rows:
        wanted = SheetReadiness.Status.OK if row.staffed else SheetReadiness.Status.MISSING
        if row.status != wanted:
            row.status = wanted
            save_tracked(row, by=by, fields=["status"])
            changed += 1
    return changed


@transaction.atomic
def site_create(*, by, **fields: Any) -> HostSite:
    unknown = set(fields) - SITE_FIELDS
    if unknown:
        raise TypeError(f"unknown site fields: {sorted(unknown)}")
    site = HostSite(**fields)
    _check_parent(site)
    save_tracked(site, by=by, validate=True)
    ensure_sheet(site)
    follow_up_readiness_refresh(site_ids=[site.pk], by=by)
    return site


@transaction.atomic
def site_update(*, site: HostSite, by, **fields: Any) -> HostSite:
    unknown = set(fields) - SITE_FIELDS
    if unknown:
        raise TypeError(f"unknown site fields: {sorted(unknown)}")
    site = HostSite.objects.select_for_update().get(pk=site.pk)
    parent_before = site.parent_id
    for name, value in fields.items():
        setattr(site, name, value)
    _check_parent(site)
    save_tracked(site, by=by, validate=True)
    if site.parent_id != parent_before:  # its pôle mère's staff count for its course nurse item
        follow_up_readiness_refresh(site_ids=[site.pk], by=by)
    return site


@transaction.atomic
def sheet_update(
    *,
    sheet: InfoSheet,
    by,
    fields: Mapping[str, Any] | None = None,
    contacts: Iterable[Mapping[str, Any]] | None = None,
    equipment: Mapping[str, bool] | None = None,
    readiness: Mapping[str, Mapping[str, str]] | None = None,
) -> InfoSheet:
    """Change any part of a sheet's working copy. `contacts` replaces the list; `equipment`
    and `readiness` update the items they name (by catalogue code).

    A published sheet stays as validated for the public: the first change opens a revision
    (draft), which its staff submit and its manager validates (`sheet_publish`). A revision
    sent back stays "returned", its comment in view, until it is submitted again.
    """
    sheet = InfoSheet.objects.select_for_update().get(pk=sheet.pk)
    fields = dict(fields or {})
    unknown = set(fields) - SHEET_FIELDS
    if unknown:
        raise TypeError(f"unknown sheet fields: {sorted(unknown)}")
    changed = False
    for name, value in fields.items():
        if getattr(sheet, name) != value:
            setattr(sheet, name, value)
            changed = True
    if contacts is not None:
        changed |= _replace_contacts(sheet, list(contacts), by=by)
    if equipment:
        changed |= _update_rows(
            sheet.equipment.select_related("item"),
            {code: {"available": bool(value)} for code, value in equipment.items()},
            field="equipment",
            by=by,
        )
    if readiness:
        rows = sheet.readiness.select_related("item")
        _refuse_derived(rows, readiness)
        changed |= _update_rows(rows, readiness, field="readiness", by=by)
    if (
        changed
        and sheet.status == InfoSheet.Status.PUBLISHED
        and sheet.revision_status == InfoSheet.RevisionStatus.NONE
    ):
        sheet.revision_status = InfoSheet.RevisionStatus.DRAFT
    if changed:
        save_tracked(sheet, by=by, validate=True)
    return sheet


OFFER_FIELDS = (
    "kind", "offered_by", "address", "contact_name", "contact_phone", "nights_available",
)  # fmt: skip


@transaction.atomic
def accommodation_offers_update(
    *, site: HostSite, by, offers: Iterable[Mapping[str, Any]]
) -> list[AccommodationOffer]:
    """Set the accommodation the host commune or EPCI offers at `site` (seed 000, line 67):
    an entry with the `id` of one of the site's offers changes it, one without adds one, an
    offer left out is removed (the nights asked keep their answer). Practical logistics the
    staff keep current: shown live on the sheet, outside its validated version. A bad entry
    raises a `ValidationError` naming the field (`accommodation_offers`); nothing is written."""
    HostSite.objects.select_for_update().filter(pk=site.pk).first()
    current = {offer.pk: offer for offer in site.accommodation_offers.all()}
    kept: list[AccommodationOffer] = []
    for position, entry in enumerate(offers):
        offer_id = entry.get("id")
        if offer_id:
            offer = current.get(offer_id)
            if offer is None or offer in kept:
                raise ValidationError(
                    {
                        "accommodation_offers": [
                            _("Unknown accommodation: %(id)s.") % {"id": offer_id}
                        ]
                    }
                )
        else:
            offer = AccommodationOffer(site=site)
        for name in OFFER_FIELDS:
            value = entry.get(name, getattr(offer, name) if offer.pk else "")
            setattr(offer, name, (value or "").strip() if isinstance(value, str) else value)
        offer.position = position
        try:
            offer.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {
                    "accommodation_offers": [
                        f"{name}: {' '.join(messages)}"
                        for name, messages in exc.message_dict.items()
                    ]
                }
            ) from exc
        kept.append(offer)
    for offer in kept:
        save_tracked(offer, by=by)
    for offer in current.values():
        if offer not in kept:
            offer._history_user = by
            offer.delete()
    return kept


def _replace_contacts(sheet: InfoSheet, contacts: list[Mapping[str, Any]], *, by) -> bool:
    current = [
        (c.service, c.name, c.phone, c.priority) for c in sheet.contacts.order_by("position", "pk")
    ]
    wanted = [
        (c["service"], c["name"], c["phone"], bool(c.get("priority", False))) for c in contacts
    ]
    if current == wanted:
        return False
    for contact in sheet.contacts.all():
        contact._history_user = by
        contact.delete()
    errors = {}
    for position, (service, name, phone, priority) in enumerate(wanted):
        contact = KeyContact(
            sheet=sheet, service=service, name=name, phone=phone, priority=priority,
            position=position,
        )  # fmt: skip
        try:
            save_tracked(contact, by=by, validate=True)
        except ValidationError as exc:
            errors[str(position)] = exc.message_dict
    if errors:
        raise ValidationError({"contacts": [str(errors)]})
    return True


def _refuse_derived(rows, values: Mapping[str, Mapping[str, Any]]) -> None:
    """The items that follow the site's staff keep their status: setting another one is refused
    (their note stays the staff's to write; repeating the current status is harmless)."""
    for row in rows:
        code = row.item.code
        if code not in DERIVED_READINESS or code not in values:
            continue
        status = values[code].get("status", row.status)
        if status != row.status:
            raise ValidationError(
                {
                    "readiness": [
                        _(
                            "“%(item)s” cannot be set by hand: it follows the site’s staff. It is "
                            "done when a course nurse or a medical assistant of the site, or of "
                            "its parent site, has an account."
                        )
                        % {"item": row.item.label}
                    ]
                }
            )


def _update_rows(rows, values: Mapping[str, Mapping[str, Any]], *, field: str, by) -> bool:
    by_code = {row.item.code: row for row in rows}
    unknown = sorted(set(values) - set(by_code))
    if unknown:
        raise ValidationError(
            {field: [_("Unknown item: %(codes)s.") % {"codes": ", ".join(unknown)}]}
        )
    changed = False
    for code, attributes in values.items():
        row = by_code[code]
        dirty = False
        for name, value in attributes.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                dirty = True
        if dirty:
            save_tracked(row, by=by, validate=True)
            changed = True
    return changed


# --- What a sheet must say before it is published -------------------------------------------

# The sections the field asks every host site's sheet to fill (seed 000, lines 50-67, and the
# consultation length, line 128), by the API field holding each: what `sheet_incomplete` names.
# "Identity and contacts" is the site's own address, phone and email (PATCH /sites/{id}/) and at
# least one key contact; the other sections are the sheet's fields.
SITE_IDENTITY_FIELDS = ("address", "postal_code", "city", "phone", "email")
REQUIRED_SHEET_FIELDS = (
    "patients_profile",
    "daily_consultations",
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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sheet_missing_fields(sheet: InfoSheet) -> list[str]:
    """The API names of the sections still empty on the sheet's working copy (its site's
    identity included), in the order the sheet reads; [] when it can be published. Reads the
    prefetched contacts if any. The one rule behind `sheet_incomplete`, pages and API alike."""
    site = sheet.site
    missing = [name for name in SITE_IDENTITY_FIELDS if _blank(getattr(site, name))]
    if not list(sheet.contacts.all()):
        missing.append("contacts")
    missing += [name for name in REQUIRED_SHEET_FIELDS if _blank(getattr(sheet, name))]
    return missing


def sheet_field_label(name: str) -> str:
    """A section's field as the pages name it (the model's verbose name)."""
    if name == "contacts":
        return _("key contacts")
    model = HostSite if name in SITE_IDENTITY_FIELDS else InfoSheet
    return str(model._meta.get_field(name).verbose_name)


def check_sheet_complete(sheet: InfoSheet) -> None:
    """Refuse (409 `sheet_incomplete`, naming the fields) a sheet with an empty section."""
    missing = sheet_missing_fields(sheet)
    if missing:
        raise DomainError(
            "sheet_incomplete",
            _("The sheet is incomplete; fill in: %(fields)s.")
            % {"fields": ", ".join(sheet_field_label(name) for name in missing)},
            extra={"fields": missing},
        )


@transaction.atomic
def sheet_submit(*, sheet: InfoSheet, by, now: datetime | None = None) -> InfoSheet:
    """Site staff hand the sheet to their managers for validation, who are told: a draft
    (draft → submitted), or the changes made to a published sheet (its revision → submitted;
    the public keeps the validated version meanwhile). Only a complete sheet is submitted: the
    secretary learns what is missing before the manager does."""
    sheet = InfoSheet.objects.select_for_update().select_related("site").get(pk=sheet.pk)
    now = now or timezone.now()
    if sheet.status == InfoSheet.Status.DRAFT:
        sheet.status = InfoSheet.Status.SUBMITTED
        sheet.submitted_at = now
    elif sheet.status == InfoSheet.Status.PUBLISHED and sheet.revision_open:
        sheet.revision_status = InfoSheet.RevisionStatus.SUBMITTED
        sheet.revision_submitted_at = now
    else:
        raise DomainError(
            "invalid_transition",
            _("Only a draft sheet, or changes to a published one, can be submitted."),
        )
    check_sheet_complete(sheet)
    sheet.return_comment = ""
    save_tracked(sheet, by=by, validate=True)
    _tell_managers(sheet)
    return sheet


@transaction.atomic
def sheet_publish(*, sheet: InfoSheet, by, now: datetime | None = None) -> InfoSheet:
    """A manager validates the sheet once every section is filled (`check_sheet_complete`) and
    every mandatory item is ok: a submitted sheet becomes public, or a published sheet's
    submitted changes replace its public version. The working copy is frozen into
    `published_content`, what the public reads from then on."""
    sheet = InfoSheet.objects.select_for_update().select_related("site").get(pk=sheet.pk)
    revision = (
        sheet.status == InfoSheet.Status.PUBLISHED
        and sheet.revision_status == InfoSheet.RevisionStatus.SUBMITTED
    )
    if sheet.status != InfoSheet.Status.SUBMITTED and not revision:
        raise DomainError(
            "invalid_transition",
            _("Only a submitted sheet, or submitted changes to a published one, can be validated."),
        )
    check_sheet_complete(sheet)
    missing = sheet.missing_mandatory()
    if missing:
        raise DomainError(
            "readiness_incomplete",
            _("Mandatory readiness items are not done: %(items)s.")
            % {"items": "; ".join(entry.item.label for entry in missing)},
        )
    sheet.status = InfoSheet.Status.PUBLISHED
    sheet.published_content = sheet_content(
        InfoSheet.objects.prefetch_related("contacts", "equipment__item", "readiness__item").get(
            pk=sheet.pk
        )
    )
    sheet.published_at = now or timezone.now()
    sheet.published_by = by
    sheet.revision_status = InfoSheet.RevisionStatus.NONE
    sheet.return_comment = ""
    save_tracked(sheet, by=by, validate=True)
    return sheet


@transaction.atomic
def sheet_return_to_draft(*, sheet: InfoSheet, by, comment: str = "") -> InfoSheet:
    """A manager sends the sheet back to the site for corrections, saying why: a submitted
    sheet goes back to draft (the comment is optional there), a published sheet's submitted
    changes are "returned" (a comment is required; the public version stays). The site's
    staff read the comment on the site page and are told."""
    sheet = InfoSheet.objects.select_for_update().select_related("site").get(pk=sheet.pk)
    comment = (comment or "").strip()
    if sheet.status == InfoSheet.Status.SUBMITTED:
        sheet.status = InfoSheet.Status.DRAFT
    elif (
        sheet.status == InfoSheet.Status.PUBLISHED
        and sheet.revision_status == InfoSheet.RevisionStatus.SUBMITTED
    ):
        if not comment:
            raise ValidationError(
                {"comment": [_("Say what the site should change before submitting again.")]}
            )
        sheet.revision_status = InfoSheet.RevisionStatus.RETURNED
    else:
        raise DomainError(
            "invalid_transition",
            _("Only a submitted sheet, or submitted changes, can be sent back."),
        )
    sheet.return_comment = comment
    save_tracked(sheet, by=by, validate=True)
    _tell_staff(sheet)
    return sheet


def _sheet_event(sheet: InfoSheet) -> str:
    """The history row of the transition just saved: one message per transition."""
    return str(sheet.history.values_list("history_id", flat=True).first())


def _tell_managers(sheet: InfoSheet) -> None:
    """The territory managers of the site (else its region's ARS managers) learn that a sheet
    waits for them."""
    site = sheet.site
    managers = Membership.objects.filter(
        role=Role.TERRITORY_MANAGER, territory_id=site.territory_id
    ).select_related("user")
    if not managers:
        managers = Membership.objects.filter(
            role=Role.ARS_MANAGER, region_id=site.territory.department.region_id
        ).select_related("user")
    notify(
        users={m.user for m in managers},
        kind="sheet_submitted",
        context={
            "site": site.name,
            "changes": "1" if sheet.status == InfoSheet.Status.PUBLISHED else "",
            "link": reverse("site_revision", args=[site.pk])
            if sheet.status == InfoSheet.Status.PUBLISHED
            else reverse("site_detail", args=[site.pk]),
        },
        dedupe_key=f"sheet_submitted:{sheet.pk}:{_sheet_event(sheet)}",
    )


def _tell_staff(sheet: InfoSheet) -> None:
    """The site's staff learn that their sheet came back, and why."""
    site = sheet.site
    notify(
        users=set(site.team()),  # with the pôle mère's team, for a secondary practice
        kind="sheet_returned",
        context={
            "site": site.name,
            "comment": sheet.return_comment,
            "link": reverse("site_detail", args=[site.pk]),
        },
        dedupe_key=f"sheet_returned:{sheet.pk}:{_sheet_event(sheet)}",
    )


# --- The site's calendar feed and its team ---------------------------------------------------


def site_calendar_rotate(*, site: HostSite, by) -> HostSite:
    """A new secret for the site's calendar feed: the old address stops working at once. The
    history records who did it and when (the secret itself is not kept there)."""
    site.calendar_token = new_calendar_token()
    save_tracked(site, by=by, fields=["calendar_token"])
    return site


@transaction.atomic
def membership_end(*, membership: Membership, by) -> None:
    """Someone leaves a place. Leaving a site's team also rotates the site's calendar secret:
    the feed lists every day at the site, and whoever left must keep no way in."""
    site = membership.site
    membership.delete()
    if site is not None:
        site_calendar_rotate(site=site, by=by)
        # The pôle mère's team also works at its secondary practices: their feeds too.
        for practice in site.children.filter(kind__in=HostSite.ATTACHED_KINDS):
            site_calendar_rotate(site=practice, by=by)


# --- A site's territory, from its commune ----------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_SAINT = re.compile(r"\b(st|ste)\b")
_CEDEX = re.compile(r"\s+cedex(\s+\d+)?$")


def _city_key(name: str) -> str:
    """A city name compared without accents, case, hyphens or apostrophes; "St"/"Ste" read as
    "Saint"/"Sainte" and a trailing CEDEX ignored (how addresses get typed)."""
    ascii_name = (
        unicodedata.normalize("NFKD", name.translate(_LIGATURES))
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    words = re.sub(r"[^a-z0-9]+", " ", ascii_name).strip()
    words = _CEDEX.sub("", words)
    return _SAINT.sub(lambda match: {"st": "saint", "ste": "sainte"}[match.group(1)], words)


def territory_for_commune(postal_code: str, city: str = "") -> Territory | None:
    """The territory (EPCI) of the commune at `postal_code` and `city`, or None when it cannot be
    told: unknown postal code, or one that serves communes of several territories and a city
    that names none of them. One query, on the communes `load_territories` loaded."""
    postal_code = (postal_code or "").strip()
    if not POSTAL_CODE.match(postal_code):
        return None
    # Postal codes are 5 digits separated by spaces: a substring match is a whole-code match.
    communes = list(
        Commune.objects.filter(
            postal_codes__contains=postal_code, territory__isnull=False
        ).select_related("territory")
    )
    key = _city_key(city or "")
    named = [commune for commune in communes if key and _city_key(commune.name) == key]
    candidates = named or communes
    territories = {commune.territory_id: commune.territory for commune in candidates}
    return next(iter(territories.values())) if len(territories) == 1 else None
