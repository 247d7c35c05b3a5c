"""Readiness (issue 11 § 3): is the place ready to host volunteers, and what waits for its
managers — sheets to validate, sites that lack a mandatory item, doctors to verify.

One row per child of the place (regions → departments → territories → sites), each figure
one conditional aggregate of a `GROUP BY` (or one correlated count per row for volunteers),
plus three queues the manager works from, paginated by the page. The definitions live where
the lists that show them live, so a figure and the list behind its link always agree:

- *sites*: the host sites of the place (`Place.sites`), whatever their status; *active*:
  status `active`;
- *sheets awaiting validation*: `HostSite.objects.to_validate()` (submitted, or published and
  changed since); the queue is ordered by how long they have waited: the submission date of a
  submitted sheet, the last change of a published one changed since (oldest first);
- *not ready*: `HostSite.objects.not_ready()` — a mandatory item of the readiness catalogue is
  not `ok` on the sheet (no sheet at all: every mandatory item is missing); what each one
  lacks is `sites.models.missing_mandatory_items`, aggregated by the database;
- *volunteers awaiting verification*: status `pending`, within what the caller reads
  (`Volunteer.objects.visible_to`), of the place as `Volunteer.objects.of_place` says: those
  who chose one of its territories and, for a region or department (or France), those whose
  home department is in it. A volunteer may belong to several rows (a home department here, a
  preferred territory there): the total is the place's own count, not the rows' sum; a site
  has no volunteers of its own (its row shows none, its territory's total is the place's).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from reports.scope import LEVEL_LABELS, Place
from reports.tables import Column, Table
from sites.models import (
    Department,
    HostSite,
    InfoSheet,
    ReadinessItem,
    Region,
    Territory,
    missing_mandatory_items,
)
from volunteers.models import Volunteer

FIGURES = (
    Column("sites", _("Host sites")),
    Column("sites_active", _("Active sites")),
    Column("sheets_to_validate", _("Sheets awaiting validation")),
    Column("sites_not_ready", _("Sites not ready")),
    Column("volunteers_pending", _("Volunteers awaiting verification")),
)
SITE_FIGURES = ("sites", "sites_active", "sheets_to_validate", "sites_not_ready")
CHILD_MODELS = {"region": Region, "department": Department, "territory": Territory}


class Codes(Aggregate):
    """The codes of a group joined by commas: `string_agg` on PostgreSQL, `group_concat`
    elsewhere (SQLite). Codes are slugs: no comma inside one."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra_context)


# --- The table --------------------------------------------------------------------------------


def columns(place: Place) -> list[Column]:
    return [Column("name", LEVEL_LABELS[place.child_level], "text"), *FIGURES]


def table(place: Place) -> Table:
    """One row per child of the place, every figure with the link to the list it counts;
    the totals are the place's own (4 queries whatever the size of the place)."""
    children = place.children()
    sites = _site_figures(place)
    volunteers = _volunteer_figures(place, [child.key for child in children])
    page = reverse("reports:readiness")
    rows = []
    for child in children:
        row = {key: sites.get(child.key, {}).get(key, 0) for key in SITE_FIGURES}
        row["volunteers_pending"] = volunteers.get(child.key) if volunteers is not None else None
        row["name"] = child.label
        row["url"] = (
            reverse("site_detail", args=[child.key])
            if place.level == "site"
            else f"{page}?{child.query}"
        )
        row["links"] = figure_links(child.params, site_level=place.child_level == "site")
        rows.append(row)
    sums = {key: sum(row[key] for row in rows) for key in SITE_FIGURES}
    sums["volunteers_pending"] = volunteers_queue(place).count()
    return Table("readiness", columns(place), rows, sums)


def readiness_chart(table: Table) -> dict:
    """The stacked bars of the sites per row, ready and not ready (they add up to the row's
    sites): the arguments of `{% bar_chart title x_labels series stacked=True %}`
    (reports.templatetags.charts). Sheets awaiting validation are not a third stack: such a
    site is also ready or not, it would be counted twice (the table and the tiles give it)."""
    rows = list(table.rows)
    return {
        "title": _("Host sites ready or not per %(level)s")
        % {"level": str(table.columns[0].label).lower()},
        "x_labels": [row["name"] for row in rows],
        "series": {
            str(_("Sites ready")): [row["sites"] - row["sites_not_ready"] for row in rows],
            str(_("Sites not ready")): [row["sites_not_ready"] for row in rows],
        },
    }


MAP_SITES = 500


def map_sites(place: Place, limit: int = MAP_SITES) -> tuple[list[dict], bool]:
    """The place's sites with a position, as points of `{% department_map … sites=… %}`
    (reports.templatetags.charts): name, ready (not `HostSite.objects.not_ready()`), latitude,
    longitude, department, url (the site's page). At most `limit` of them, by name, to keep
    the page light, and whether more were left out: one query whatever the place."""
    not_ready = HostSite.objects.not_ready().filter(pk=OuterRef("pk"))
    rows = list(
        place.sites.filter(latitude__isnull=False, longitude__isnull=False)
        .annotate(not_ready=Exists(not_ready))
        .order_by("name", "pk")
        .values("pk", "name", "latitude", "longitude", "territory__department", "not_ready")[
            : limit + 1
        ]
    )
    sites = [
        {
            "name": row["name"],
            "ready": not row["not_ready"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "department": row["territory__department"],
            "url": reverse("site_detail", args=[row["pk"]]),
        }
        for row in rows[:limit]
    ]
    return sites, len(rows) > limit


def figure_links(params: dict[str, str], *, site_level: bool = False) -> dict[str, str]:
    """The list behind each figure of a place named by `params` (the lists take the same
    parameters; `Volunteer.objects.of_place` reads the narrowest). A site has no volunteers
    of its own: no link for them on a site's row."""

    def url(name: str, place: dict[str, str], **extra: str) -> str:
        query = urlencode({**place, **extra})
        return f"{reverse(name)}?{query}" if query else reverse(name)

    links = {
        "sites": url("site_list", params),
        "sites_active": url("site_list", params, status=HostSite.Status.ACTIVE),
        "sheets_to_validate": url("site_list", params, sheet="to_validate"),
        "sites_not_ready": url("site_list", params, readiness="not_ready"),
    }
    if not site_level:
        around = {key: value for key, value in params.items() if key != "site"}
        links["volunteers_pending"] = url("volunteer_list", around, status=Volunteer.Status.PENDING)
    return links


def _site_figures(place: Place) -> dict[object, dict[str, int]]:
    """The sites' figures per child of the place, in one `GROUP BY`."""
    group = place.child_of_site
    rows = place.sites.order_by().values(group).annotate(**_site_aggregates())
    return {row.pop(group): row for row in rows}


def _site_aggregates() -> dict:
    """The sites' figures (SITE_FIGURES) as aggregates of a HostSite queryset."""
    to_validate = HostSite.objects.to_validate().values("pk")
    return {
        "sites": Count("pk"),
        "sites_active": Count("pk", filter=Q(status=HostSite.Status.ACTIVE)),
        "sheets_to_validate": Count("pk", filter=Q(pk__in=to_validate)),
        "sites_not_ready": Count("pk", filter=Exists(missing_mandatory_items(OuterRef("pk")))),
    }


def totals(place: Place) -> dict[str, int]:
    """The place's own figures, the table's totals without its rows (the overview's tiles):
    two queries whatever the size of the place."""
    found = place.sites.order_by().aggregate(**_site_aggregates())
    found["volunteers_pending"] = volunteers_queue(place).count()
    return found


def _pending_volunteers(place: Place) -> QuerySet[Volunteer]:
    """Volunteers awaiting verification that the caller reads (any place)."""
    visible = Volunteer.objects.visible_to(place.user).values("pk")
    return Volunteer.objects.filter(pk__in=visible, status=Volunteer.Status.PENDING)


def _volunteer_figures(place: Place, keys: list) -> dict[object, int] | None:
    """Volunteers awaiting verification per child (a correlated count per row, in one query);
    None when the children are sites."""
    model = CHILD_MODELS.get(place.child_level)
    if model is None:
        return None
    count = (
        _pending_volunteers(place)
        .of_place(**{place.child_level: OuterRef("pk")})
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = model.objects.filter(pk__in=keys).annotate(
        n=Coalesce(Subquery(count, output_field=IntegerField()), 0)
    )
    return dict(rows.values_list("pk", "n"))


# --- The queues -------------------------------------------------------------------------------


def sheets_queue(place: Place) -> QuerySet[HostSite]:
    """Sheets awaiting validation, the longest waiting first (`waiting_since`: the submission
    of a submitted sheet, the last change of a published one changed since)."""
    submitted = Q(info_sheet__status=InfoSheet.Status.SUBMITTED)
    return (
        place.sites.to_validate()
        .select_related("info_sheet", "territory")
        .annotate(
            waiting_since=Case(
                When(
                    submitted & Q(info_sheet__submitted_at__isnull=False),
                    then=F("info_sheet__submitted_at"),
                ),
                default=F("info_sheet__updated_at"),
            ),
        )  # fmt: skip
        .order_by("waiting_since", "pk")
    )


def not_ready_queue(place: Place) -> QuerySet[HostSite]:
    """Sites not ready, by territory and name, each with the codes of the mandatory items it
    lacks (`missing_codes`, aggregated by the database; `missing_labels` names them)."""
    codes = (
        missing_mandatory_items(OuterRef("pk"))
        .order_by()
        .values("mandatory")
        .annotate(codes=Codes("code"))
        .values("codes")
    )
    return (
        place.sites.not_ready()
        .select_related("territory", "info_sheet")
        .annotate(missing_codes=Subquery(codes))
        .order_by("territory__name", "name", "pk")
    )


def missing_labels(sites) -> None:
    """Set `missing` on each site of a page of `not_ready_queue`: the labels of what it lacks,
    in the catalogue's order (one query for the catalogue, whatever the page)."""
    catalogue = list(
        ReadinessItem.objects.filter(mandatory=True)
        .order_by("position", "code")
        .values_list("code", "label")
    )
    for site in sites:
        lacking = set((site.missing_codes or "").split(","))
        site.missing = [label for code, label in catalogue if code in lacking]


def volunteers_queue(place: Place) -> QuerySet[Volunteer]:
    """Volunteers of the place awaiting verification, the longest waiting first."""
    if place.level == "national":
        of_place = {}
    elif place.level == "site":
        of_place = {"territory": place.site.territory_id}
    else:
        of_place = {place.level: place.params[place.level]}
    return (
        _pending_volunteers(place)
        .of_place(**of_place)
        .select_related("user", "home_department")
        .order_by("created_at", "pk")
    )
