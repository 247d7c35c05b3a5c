"""Charts and maps of the dashboards, each with its data table beside it.

The graphics are the State design system's chart web components (`@gouvfr/dsfr-chart` 2.0.4,
vendored by scripts/vendor-dsfr-chart.sh into static/vendor/dsfr-chart/). They read their data
from attributes holding JSON strings; the first chart of a page also writes the `<link>` and
`<script type="module" src>` tags that load them (once per page, no inline script or style, so
the strict Content-Security-Policy holds). Screen readers cannot read a canvas or a map: every
tag also renders a DSFR table (caption, `th scope`) of the very same numbers, in a collapsible
section that stays in the DOM.

    {% load charts %}

    {% line_chart title x_labels series unit="" x_title="" %}
    {% bar_chart title x_labels series unit="" x_title="" stacked=False horizontal=False %}
        x_labels  list of the categories (weeks, territories…), as strings or dates;
        series    {series name: [one number per x label]} (or a list of (name, numbers)
                  pairs); None draws a gap and reads "—" in the table;
        unit      appended to numbers in the tooltips and the table ("%", "€", "j"…);
        x_title   header of the table's first column (default "Category");
        stacked   bars of the series stacked (follow-up ageing); horizontal: bars lying.

    {% department_map title values unit="" total=None region=None links=None sites=None %}
        values    {INSEE department code ("18", "2A", "971"): number}, in the order of the
                  table's rows; departments left out are grey ("no data"), not in the table,
                  and the colour scale then starts at 0;
        total     the figure for the whole area, shown in the map's side panel;
        region    an INSEE region code ("24"): draws that region only (<map-chart-reg>);
                  without it, the whole of France by department (<map-chart>);
        links     {department code: URL}: the table's department names link there (the
                  drill-down: the component's own click only zooms in);
        sites     host sites drawn as points on the map, coloured (and shaped) by readiness,
                  and listed in a second table: a list of mappings with keys
                  name, ready (bool), latitude, longitude (None: listed but not drawn),
                  department (INSEE code, optional), url (optional).

    {% region_map title values unit="" total=None links=None %}
        France by region (<map-chart level="reg">); values and links keyed by INSEE region
        code ("84", "94", "01"…).

    {% chart_assets %}
        optional, in a page's {% block extra_css %}: the components' stylesheets and scripts
        in the head; the chart tags then do not write them again.

Numbers are ints, floats or Decimals; floats and Decimals are rounded half up to 2 decimals,
the same in the chart and in the table; NaN and infinities count as None. Every map also takes
`date` (shown as "Mise à jour", default today) and every tag `palette` (one of PALETTES). Site
points are drawn on mainland France and Corsica only (overseas sites are listed, not drawn).
Inside a department no boundaries are available: show its territories with `bar_chart`.
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reports.maps import OVERSEAS_REGIONS, REGION_COMPONENT_CODES, point_on_map
from sites.reference import DEPARTMENTS, REGIONS

register = template.Library()

PALETTES = frozenset(
    {
        "default",
        "neutral",
        "categorical",
        "sequentialAscending",
        "sequentialDescending",
        "divergentAscending",
        "divergentDescending",
    }
)
DEPARTMENT_NAMES = {code: name for code, name, _region in DEPARTMENTS}
REGION_NAMES = dict(REGIONS)
_STATE = "_releve_charts"
NBSP = "\u00a0"
CENT = Decimal("0.01")


def _state(context: template.Context) -> dict[str, Any]:
    """What this page has already written: the assets, and a counter for unique ids. Kept on
    the request (one page), or on the root of the context when rendered without one."""
    request = context.get("request")
    holder = request.__dict__ if request is not None else context.dicts[0]
    return holder.setdefault(_STATE, {"assets": False, "ids": itertools.count(1)})


def _assets(context: template.Context) -> str:
    state = _state(context)
    if state["assets"]:
        return ""
    state["assets"] = True
    return render_to_string(
        "reports/charts/assets.html",
        {
            "css": static("vendor/dsfr-chart/DSFRChart.css"),
            "js": static("vendor/dsfr-chart/DSFRChart.js"),
            "our_css": static("reports/charts.css"),
            "no_data_css": static("reports/map-no-data.css"),
            "our_js": static("reports/charts.js"),
        },
    )


@register.simple_tag(takes_context=True)
def chart_assets(context: template.Context) -> str:
    """The stylesheets and scripts of the charts, for a page that prefers them in its head
    (`{% block extra_css %}`); the chart tags then do not write them again."""
    return _assets(context)


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        raise TypeError(f"a chart value must be a number or None, not {value!r}")
    if isinstance(value, int):
        return value
    number = Decimal(str(value))
    if not number.is_finite():  # a rate over nothing: no value, not an invalid JSON NaN
        return None
    # Half up from the decimal digits one reads (4.125 -> 4.13), not float's binary ones.
    rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _shown(value: int | float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = formats.number_format(value, use_l10n=True, force_grouping=True)
    return f"{text}{NBSP}{unit}" if unit else text


def _label(value: Any) -> str:
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _palette(palette: str) -> str:
    if palette and palette not in PALETTES:
        raise ValueError(f"unknown palette {palette!r}: one of {sorted(PALETTES)}")
    return palette


def _series(series: Mapping[str, Sequence] | Iterable[tuple[str, Sequence]], width: int):
    pairs = series.items() if isinstance(series, Mapping) else series
    out = []
    for name, values in pairs:
        numbers = [_number(value) for value in values]
        if len(numbers) != width:
            raise ValueError(f"series {name!r} has {len(numbers)} values for {width} labels")
        out.append((str(name), numbers))
    if not out:
        raise ValueError("a chart needs at least one series")
    return out


def _xy_chart(
    context, kind, title, x_labels, series, *, unit, x_title, palette, stacked, horizontal
) -> str:
    labels = [_label(label) for label in x_labels]
    pairs = _series(series, len(labels))
    # Each figure with its series' name: the cell's label when the table stacks on a phone.
    rows = [
        (label, [(name, _shown(numbers[index], unit)) for name, numbers in pairs])
        for index, label in enumerate(labels)
    ]
    attributes = {
        # One x list per series: the line chart reads x[i] for series i when x is numeric.
        "x": _json([labels] * len(pairs)),
        "y": _json([numbers for _name, numbers in pairs]),
        "name": _json([name for name, _numbers in pairs]),
    }
    if unit:
        attributes["unit-tooltip"] = unit
    if palette:
        attributes["selected-palette"] = _palette(palette)
    # The component reads any value of these two, "false" included, as true: only when set.
    if stacked:
        attributes["stacked"] = "true"
    if horizontal:
        attributes["horizontal"] = "true"
    return _render(
        context,
        "reports/charts/chart.html",
        {
            "kind": kind,
            "element": f"{kind}-chart",
            "attributes": attributes,
            "title": title,
            "x_title": x_title or _("Category"),
            "series_names": [name for name, _numbers in pairs],
            "rows": rows,
        },
    )


def _render(context, template_name: str, data: dict[str, Any]) -> str:
    data["assets"] = _assets(context)
    data["id"] = f"releve-chart-{next(_state(context)['ids'])}"
    return render_to_string(template_name, data)


@register.simple_tag(takes_context=True)
def line_chart(context, title, x_labels, series, *, unit="", x_title="", palette="") -> str:
    """A line per series over the x labels (days per week per territory)."""
    return _xy_chart(
        context, "line", title, x_labels, series, unit=unit, x_title=x_title,
        palette=palette, stacked=False, horizontal=False,
    )  # fmt: skip


@register.simple_tag(takes_context=True)
def bar_chart(
    context, title, x_labels, series, *, unit="", x_title="", palette="",
    stacked=False, horizontal=False,
) -> str:  # fmt: skip
    """Bars per x label, a colour per series; `stacked` piles the series up (ageing)."""
    return _xy_chart(
        context, "bar", title, x_labels, series, unit=unit, x_title=x_title,
        palette=palette, stacked=stacked, horizontal=horizontal,
    )  # fmt: skip


def _value_title(title: str, unit: str) -> str:
    return f"{title} ({unit})" if unit else title


def _map_rows(values, names, links, unit):
    rows = []
    for code, value in values.items():
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "url": (links or {}).get(code, ""),
                "value": _shown(_number(value), unit),
            }
        )
    return rows


def _map(title, codes, values, *, total, unit, date, palette) -> tuple[dict, list[str]]:
    """The component's attributes, and the codes without a value.

    Every code of the map goes into `data`, null when it has no value: <map-chart-reg> hides
    only the departments it is given, and when a map zooms into a region it takes the minimum
    of every department there, where one missing would turn the scale into NaN (black). A null
    counts as 0 in that minimum, so the colour scale starts at 0 as soon as one code has no
    value; the figure lists those codes in `data-no-data`, and static/reports/map-no-data.css
    paints them grey."""
    unknown = sorted(set(values) - set(codes))
    if unknown:
        raise ValueError(f"unknown codes: {unknown}")
    data = {code: _number(values.get(code)) for code in codes}
    attributes = {
        "data": _json(data),
        "name": title,
        "date": formats.date_format(date or timezone.localdate(), "DATE_FORMAT"),
        # The side panel shows "NaN" for an empty value.
        "value": "—" if total is None else _shown(_number(total), unit),
    }
    if palette:
        attributes["selected-palette"] = _palette(palette)
    return attributes, [code for code in codes if data[code] is None]


def _sites(sites: Iterable[Mapping[str, Any]] | None):
    points, rows = [], []
    for site in sites or ():
        ready = bool(site["ready"])
        department = site.get("department") or ""
        where = point_on_map(site.get("latitude"), site.get("longitude"), department or None)
        rows.append(
            {
                "name": site["name"],
                "url": site.get("url") or "",
                "department": DEPARTMENT_NAMES.get(department, department),
                "ready": ready,
                "drawn": where is not None,
            }
        )
        if where is not None:
            x, y = where
            # Ready: a round dot; not ready: a diamond, so that colour is not the only cue.
            diamond = f"{x},{y - 13:g} {x + 13:g},{y} {x},{y + 13:g} {x - 13:g},{y}"
            points.append(
                {
                    "name": site["name"],
                    "ready": ready,
                    "x": f"{x:g}",
                    "y": f"{y:g}",
                    "diamond": diamond,
                }
            )
    return points, rows


@register.simple_tag(takes_context=True)
def department_map(
    context, title, values, *, unit="", total=None, region=None, links=None, sites=None,
    date=None, palette="",
) -> str:  # fmt: skip
    """France (or one region, `region=` INSEE code) by department, with host sites."""
    region = None if region is None else str(region)
    if region is not None and region not in REGION_COMPONENT_CODES:
        raise ValueError(f"unknown region code {region!r}")
    area = [code for code, _name, in_region in DEPARTMENTS if region in (None, in_region)]
    values = {str(code): value for code, value in values.items()}
    outside = sorted(set(values) & set(DEPARTMENT_NAMES) - set(area))
    if outside:
        raise ValueError(f"departments outside region {region}: {outside}")
    attributes, no_data = _map(
        title, list(DEPARTMENT_NAMES), values, total=total, unit=unit, date=date, palette=palette
    )
    # <map-chart-reg> draws metropolitan regions only (it zooms on their outline): an overseas
    # region, a single department, shows on the map of France, in its inset.
    element = "map-chart"
    if region is not None and region not in OVERSEAS_REGIONS:
        element = "map-chart-reg"
        attributes["region"] = REGION_COMPONENT_CODES[region]
    points, site_rows = _sites(sites)
    return _render(
        context,
        "reports/charts/map.html",
        {
            "element": element,
            "attributes": attributes,
            "title": title,
            "area_title": _("Department"),
            "value_title": _value_title(title, unit),
            "rows": _map_rows(values, DEPARTMENT_NAMES, links, unit),
            "no_data": " ".join(no_data),
            "some_without_data": any(code in no_data for code in area),
            "points": points,
            "site_rows": site_rows,
            "sites_given": sites is not None,
            "undrawn": sum(1 for row in site_rows if not row["drawn"]),
        },
    )


@register.simple_tag(takes_context=True)
def region_map(
    context, title, values, *, unit="", total=None, links=None, date=None, palette=""
) -> str:
    """France by region."""
    values = {str(code): value for code, value in values.items()}
    attributes, no_data = _map(
        title,
        list(REGION_COMPONENT_CODES.values()),
        {REGION_COMPONENT_CODES.get(code, code): value for code, value in values.items()},
        total=total, unit=unit, date=date, palette=palette,
    )  # fmt: skip
    attributes["level"] = "reg"
    return _render(
        context,
        "reports/charts/map.html",
        {
            "element": "map-chart",
            "attributes": attributes,
            "title": title,
            "area_title": _("Region"),
            "value_title": _value_title(title, unit),
            "rows": _map_rows(values, REGION_NAMES, links, unit),
            "no_data": " ".join(no_data),
            "some_without_data": bool(no_data),
            "points": [],
            "site_rows": [],
            "sites_given": False,
            "undrawn": 0,
        },
    )
