"""Where a dashboard stands: one place of the drill-down France → region → department →
territory → site, always within what the signed-in pilot reads (`piloted_by`).

A place is named by the same query parameters on every page, API and export
(`?region=&department=&territory=&site=`, the narrowest wins); a place outside the caller's
scope, or unknown, is a 404. Without parameters a pilot stands at the narrowest place holding
its whole scope: France for the national manager, its region for an ARS officer, its territory
(or the department or region holding its territories) for a CPTS coordinator.

Each level knows its children (the rows of its tables) and the field that groups a site's
figures by them, so a report is one `GROUP BY` per figure whatever the level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import Count, Min, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from sites.models import Department, HostSite, Region, Territory

LEVELS = ("national", "region", "department", "territory", "site")
PARAMS = ("region", "department", "territory", "site")  # narrowest last
LEVEL_LABELS = {
    "national": _("France"),
    "region": _("Region"),
    "department": _("Department"),
    "territory": _("Territory"),
    "site": _("Host site"),
}
# From a host site, the field naming the child of each level (what its rows are grouped by).
CHILD_OF_SITE = {
    "national": "territory__department__region",
    "region": "territory__department",
    "department": "territory",
    "territory": "pk",
    "site": "pk",
}
CHILD_LEVEL = {
    "national": "region",
    "region": "department",
    "department": "territory",
    "territory": "site",
    "site": "site",
}


@dataclass(frozen=True)
class Crumb:
    label: str
    params: dict[str, str]

    @property
    def query(self) -> str:
        return urlencode(self.params)


@dataclass(frozen=True)
class Child:
    """A row of a place's tables: a child place and the parameters that open it."""

    key: object  # the value of `CHILD_OF_SITE[level]` for its sites (a code or a pk)
    label: str
    params: dict[str, str]
    obj: object = field(compare=False, repr=False, default=None)

    @property
    def query(self) -> str:
        return urlencode(self.params)


@dataclass(frozen=True)
class Place:
    user: object
    level: str
    region: Region | None = None
    department: Department | None = None
    territory: Territory | None = None
    site: HostSite | None = None

    # --- What the place holds, within the caller's scope ------------------------------------

    @cached_property
    def territories(self) -> QuerySet[Territory]:
        """The territories of the place the caller pilots (a site's: its own)."""
        qs = Territory.objects.piloted_by(self.user)
        if self.site is not None:
            return qs.filter(pk=self.site.territory_id)
        if self.territory is not None:
            return qs.filter(pk=self.territory.pk)
        if self.department is not None:
            return qs.filter(department=self.department)
        if self.region is not None:
            return qs.filter(department__region=self.region)
        return qs

    @cached_property
    def sites(self) -> QuerySet[HostSite]:
        """The host sites of the place the caller pilots."""
        qs = HostSite.objects.piloted_by(self.user)
        if self.site is not None:
            return qs.filter(pk=self.site.pk)
        return qs.filter(territory__in=self.territories)

    # --- Its rows ----------------------------------------------------------------------------

    @property
    def child_level(self) -> str:
        return CHILD_LEVEL[self.level]

    @property
    def child_of_site(self) -> str:
        """The field grouping a site's figures by this place's children."""
        return CHILD_OF_SITE[self.level]

    def children(self) -> list[Child]:
        """The rows of the place's tables, in order, one query; those without any figure
        too (a priority territory with no site is a row, and the first one to see)."""
        params = self.params
        if self.level == "national":
            regions = Region.objects.filter(
                pk__in=self.territories.values("department__region")
            ).order_by("name")
            return [Child(r.pk, r.name, {"region": r.pk}, r) for r in regions]
        if self.level == "region":
            departments = Department.objects.filter(
                pk__in=self.territories.values("department")
            ).order_by("code")
            return [Child(d.pk, str(d), {**params, "department": d.pk}, d) for d in departments]
        if self.level == "department":
            return [
                Child(t.pk, t.name, {**params, "territory": str(t.pk)}, t)
                for t in self.territories.order_by("name", "pk")
            ]
        sites = self.sites.order_by("name", "pk")
        return [Child(s.pk, s.name, {**params, "site": str(s.pk)}, s) for s in sites]

    # --- How to name it ----------------------------------------------------------------------

    @property
    def params(self) -> dict[str, str]:
        """The query parameters that name this place (its narrowest one is enough, but the
        chain reads better in a URL and in an export's file name)."""
        params: dict[str, str] = {}
        if self.region is not None:
            params["region"] = self.region.pk
        if self.department is not None:
            params["department"] = self.department.pk
        if self.territory is not None:
            params["territory"] = str(self.territory.pk)
        if self.site is not None:
            params["site"] = str(self.site.pk)
        return params

    @property
    def query(self) -> str:
        return urlencode(self.params)

    @property
    def label(self) -> str:
        obj = self.site or self.territory or self.department or self.region
        return str(obj) if obj is not None else str(LEVEL_LABELS["national"])

    @property
    def slug(self) -> str:
        """For file names: `france`, `region-24`, `department-18`, `territory-12`, `site-7`."""
        if self.level == "national":
            return "france"
        return f"{self.level}-{self.params[self.level]}"

    def breadcrumbs(self) -> list[Crumb]:
        """France › region › department › territory › site, down to this place (the levels
        above the caller's scope included: each page then shows its own part of them)."""
        crumbs = [Crumb(str(LEVEL_LABELS["national"]), {})]
        params: dict[str, str] = {}
        for name in PARAMS:
            obj = getattr(self, name)
            if obj is None:
                continue
            params = {**params, name: str(obj.pk)}
            crumbs.append(Crumb(str(obj), dict(params)))
        return crumbs


def _get(queryset: QuerySet, value: str | None):
    if value in (None, ""):
        return None
    try:
        return queryset.get(pk=value)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def place_for(user, params: Mapping[str, str]) -> Place:
    """The place named by `params`, within `user`'s scope (404 outside it or unknown).

    The narrowest parameter names the place; its parents come from it (a `department` that
    contradicts the `region` given is a 404 too, never a silent mix)."""
    site = _get(
        HostSite.objects.piloted_by(user).select_related("territory__department__region"),
        params.get("site"),
    )
    territory = site.territory if site else None
    territory = territory or _get(
        Territory.objects.piloted_by(user).select_related("department__region"),
        params.get("territory"),
    )
    department = territory.department if territory else None
    department = department or _get(
        Department.objects.select_related("region"), params.get("department")
    )
    region = department.region if department else None
    region = region or _get(Region.objects.all(), params.get("region"))
    for name, obj in (
        ("territory", territory),
        ("department", department),
        ("region", region),
    ):
        given = params.get(name)
        if given not in (None, "") and (obj is None or str(obj.pk) != str(given)):
            raise Http404
    if site is not None:
        level = "site"
    elif territory is not None:
        level = "territory"
    elif department is not None:
        level = "department"
    elif region is not None:
        level = "region"
    else:
        return home_place(user)
    place = Place(user, level, region, department, territory, site)
    # A region or department the caller pilots nothing in is outside its scope.
    if level in ("region", "department") and not place.territories.exists():
        raise Http404
    return place


def home_place(user) -> Place:
    """The narrowest place holding the caller's whole scope (two queries at most)."""
    if _pilots_everything(user):
        return Place(user, "national")
    span = Territory.objects.piloted_by(user).aggregate(
        territories=Count("pk"),
        departments=Count("department", distinct=True),
        regions=Count("department__region", distinct=True),
        territory=Min("pk"),
    )
    if span["regions"] != 1:
        return Place(user, "national")
    territory = Territory.objects.select_related("department__region").get(pk=span["territory"])
    department = territory.department
    if span["departments"] != 1:
        return Place(user, "region", department.region)
    if span["territories"] != 1:
        return Place(user, "department", department.region, department)
    return Place(user, "territory", department.region, department, territory)


def _pilots_everything(user) -> bool:
    return user.is_superuser or user.has_role(Role.NATIONAL_MANAGER)
