"""The chart and map template tags (reports/templatetags/charts.py): the component's attributes
and the table beside it hold the same numbers, names survive any character, and the maps speak
the vendored component's codes (reports/maps.py)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext, ngettext

from reports.maps import REGION_COMPONENT_CODES, point_on_map
from sites.reference import DEPARTMENTS, REGIONS
from tests.config.test_csp import INLINE_HANDLER, INLINE_SCRIPT, INLINE_STYLE

VENDOR = Path(settings.BASE_DIR) / "static" / "vendor" / "dsfr-chart"
COMPONENTS = ("line-chart", "bar-chart", "map-chart", "map-chart-reg")
TRICKY = 'Côte-d’Or « Nord » "quoted" <b>it\'s</b> & co'


class Page(HTMLParser):
    """The components (tag, attributes) and the tables (rows of cell texts) of a fragment."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.components: list[tuple[str, dict[str, str]]] = []
        self.tables: list[dict] = []
        self.scripts: list[str] = []
        self.figures: list[dict[str, str]] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in COMPONENTS:
            self.components.append((tag, attributes))
        elif tag == "figure":
            self.figures.append(attributes)
        elif tag == "script":
            self.scripts.append(attributes.get("src", ""))
        elif tag == "table":
            self.tables.append({"caption": "", "rows": [], "links": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td"):
            self._cell = []
        elif tag == "a" and self._cell is not None:
            self.tables[-1]["links"].append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "caption":
            self.tables[-1]["caption"] = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("th", "td"):
            self.tables[-1]["rows"][-1].append(
                re.sub(r"[ \t\n]+", " ", "".join(self._cell)).strip()
            )
            self._cell = None

    def handle_data(self, data):
        for collecting in (self._cell, self._caption):
            if collecting is not None:
                collecting.append(data)


def render(source: str, request=None, **context) -> str:
    with translation.override("fr"):
        return engines["django"].from_string("{% load charts %}" + source).render(context, request)


def test_it_puts_the_same_numbers_in_the_line_chart_and_its_table():
    html = render(
        '{% line_chart "Jours par semaine" weeks series unit="j" x_title="Semaine" %}',
        weeks=["S49", "S50", "S51"],
        series={"Pays de Bourges": [3, 5, Decimal("4.125")], "Sancerrois": [0, float("nan"), 1.5]},
    )
    page = Page(html)

    ((tag, attributes),) = page.components
    assert tag == "line-chart"
    x, y, names = (json.loads(attributes[key]) for key in ("x", "y", "name"))
    assert x == [["S49", "S50", "S51"]] * 2
    assert y == [[3, 5, 4.13], [0, None, 1.5]]
    assert names == ["Pays de Bourges", "Sancerrois"]
    assert attributes["unit-tooltip"] == "j"
    (table,) = page.tables
    assert table["caption"] == "Jours par semaine"
    header, *rows = table["rows"]
    assert header == ["Semaine", *names]
    assert [row[0] for row in rows] == x[0]
    # Column by column, the table reads the chart's series (French decimals, a dash for a gap).
    for column, series in enumerate(y, start=1):
        shown = [row[column] for row in rows]
        expected = ["—" if v is None else f"{v}\u00a0j".replace(".", ",") for v in series]
        assert shown == expected


def test_it_keeps_names_with_accents_and_quotes_intact_and_escaped():
    html = render(
        "{% bar_chart title labels series %}{% department_map title values links=links %}",
        title=TRICKY,
        labels=[TRICKY],
        series={TRICKY: [1]},
        values={"21": 50},
        links={"21": '/x/?a=1&b="2"'},
    )
    page = Page(html)

    (_bar, bar), (_map, the_map) = page.components
    assert json.loads(bar["x"]) == [[TRICKY]]
    assert json.loads(bar["name"]) == [TRICKY]
    assert the_map["name"] == TRICKY
    assert page.tables[0]["caption"] == TRICKY
    with translation.override("fr"):
        assert page.tables[0]["rows"] == [[gettext("Category"), TRICKY], [TRICKY, "1"]]
    assert page.tables[1]["rows"][1][0] == "Côte-d'Or (21)"
    assert page.tables[1]["links"] == ['/x/?a=1&b="2"']
    # Nothing leaks out of an attribute or a cell: no markup of the name, no inline script.
    assert "<b>" not in html
    assert INLINE_SCRIPT.findall(html) == []
    assert INLINE_HANDLER.findall(html) == []
    assert INLINE_STYLE.findall(html) == []


def test_it_loads_the_components_once_per_page_from_static_files():
    request = RequestFactory().get("/")
    html = render(
        '{% line_chart "A" x s %}{% bar_chart "B" x s %}{% region_map "C" r %}',
        request=request,
        x=["a"],
        s={"n": [1]},
        r={"24": 1},
    )
    page = Page(html)

    assert page.scripts == [
        "/static/vendor/dsfr-chart/DSFRChart.js",
        "/static/reports/charts.js",
    ]
    assert html.count('<script type="module" src=') == 2
    assert html.count("DSFRChart.css") == 1
    ids = [figure["id"] for figure in page.figures]
    assert len(set(ids)) == 3

    # Or once in the page's head, and not again with the charts.
    head_first = render(
        '{% chart_assets %}{% line_chart "A" x s %}',
        request=RequestFactory().get("/"),
        x=["a"],
        s={"n": [1]},
    )
    assert head_first.count("DSFRChart.js") == 1
    assert render('{% line_chart "A" x s %}', x=["a"], s={"n": [1]}).count("DSFRChart.js") == 1


def test_bars_stack_only_when_asked():
    stacked = Page(render('{% bar_chart "A" x s stacked=True %}', x=["a"], s={"n": [1]}))
    plain = Page(render('{% bar_chart "A" x s %}', x=["a"], s={"n": [1]}))

    # The component reads any value, "false" included, as true: the attribute is left out.
    assert stacked.components[0][1]["stacked"] == "true"
    assert "stacked" not in plain.components[0][1]
    assert "horizontal" not in plain.components[0][1]


@pytest.mark.parametrize(
    ("series", "error"),
    [
        ({"n": [1, 2]}, ValueError),  # two values for one label
        ({"n": ["1"]}, TypeError),
        ({"n": [True]}, TypeError),
        ({}, ValueError),
    ],
)
def test_it_refuses_series_that_do_not_fit(series, error):
    with pytest.raises(error):
        render('{% line_chart "A" x s %}', x=["a"], s=series)


def test_the_department_map_gives_every_department_and_tables_those_with_a_value():
    html = render(
        '{% department_map "Couverture" values unit="%" total=total links=links %}',
        values={"36": 12.5, "18": Decimal("40"), "2A": 55},
        total=61.5,
        links={"18": "/couverture/18/"},
    )
    page = Page(html)

    ((tag, attributes),) = page.components
    assert tag == "map-chart"
    data = json.loads(attributes["data"])
    assert list(data) == [code for code, *_ in DEPARTMENTS]
    assert {code: value for code, value in data.items() if value is not None} == {
        "18": 40, "2A": 55, "36": 12.5,
    }  # fmt: skip
    assert attributes["value"] == "61,5\u00a0%"
    assert attributes["name"] == "Couverture"
    # The departments without a value are named for the grey of map-no-data.css.
    no_data = page.figures[0]["data-no-data"].split()
    assert len(no_data) == 98
    assert {"18", "36", "2A"}.isdisjoint(no_data)
    header, *rows = page.tables[0]["rows"]
    assert header == ["Département", "Couverture (%)"]
    assert rows == [
        ["Indre (36)", "12,5\u00a0%"],
        ["Cher (18)", "40\u00a0%"],
        ["Corse-du-Sud (2A)", "55\u00a0%"],
    ]
    assert page.tables[0]["links"] == ["/couverture/18/"]


def test_a_region_is_drawn_alone_in_the_components_region_code():
    html = render('{% department_map "Centre" values region="24" %}', values={"18": 1})
    ((tag, attributes),) = Page(html).components

    assert tag == "map-chart-reg"
    assert attributes["region"] == "CVL"
    assert attributes["value"] == "—"  # not "NaN"
    with pytest.raises(ValueError, match="outside region"):
        render('{% department_map "Centre" values region="24" %}', values={"75": 1})
    with pytest.raises(ValueError, match="unknown"):
        render('{% department_map "France" values %}', values={"20": 1})
    # An overseas region is one department: <map-chart-reg> cannot draw it, France's insets do.
    overseas = render('{% department_map "Guadeloupe" values region="01" %}', values={"971": 3})
    assert Page(overseas).components[0][0] == "map-chart"


def test_the_region_map_speaks_the_components_codes_and_tables_insee_ones():
    html = render(
        '{% region_map "Régions" values links=links %}',
        values={"24": 35, "94": 60, "01": 20},
        links={"94": "/corse/"},
    )
    page = Page(html)

    ((_tag, attributes),) = page.components
    assert attributes["level"] == "reg"
    data = json.loads(attributes["data"])
    assert {code: value for code, value in data.items() if value is not None} == {
        "CVL": 35, "20R": 60, "971": 20,
    }  # fmt: skip
    assert set(data) == set(REGION_COMPONENT_CODES.values())
    assert page.tables[0]["rows"][1:] == [
        ["Centre-Val de Loire (24)", "35"],
        ["Corse (94)", "60"],
        ["Guadeloupe (01)", "20"],
    ]


def test_host_sites_become_points_when_placed_and_are_all_listed():
    sites = [
        {"name": TRICKY, "department": "18", "latitude": 47.081, "longitude": 2.3988,
         "ready": True, "url": "/lieux/1/"},
        {"name": "Bastia", "department": "2B", "latitude": Decimal("42.70280"),
         "longitude": Decimal("9.45030"), "ready": False},
        {"name": "Pointe-à-Pitre", "department": "971", "latitude": 16.24,
         "longitude": -61.53, "ready": True},
        {"name": "Sans position", "latitude": None, "longitude": None, "ready": False},
    ]  # fmt: skip
    html = render('{% department_map "Sites" values sites=sites %}', values={}, sites=sites)
    page = Page(html)

    assert html.count("</title></circle>") == 1  # ready: a dot
    assert html.count("</title></polygon>") == 1  # not ready: a diamond
    undrawn = ngettext(
        "%(sites)s site has no position on the map (no coordinates, or overseas): it is only "
        "listed here.",
        "%(sites)s sites have no position on the map (no coordinates, or overseas): they are "
        "only listed here.",
        2,
    ) % {"sites": 2}
    assert undrawn in html
    sites_table = page.tables[1]
    assert [row[0] for row in sites_table["rows"][1:]] == [s["name"] for s in sites]
    assert [row[1] for row in sites_table["rows"][1:]] == ["Cher", "Haute-Corse", "Guadeloupe", "—"]
    assert sites_table["links"] == ["/lieux/1/"]
    assert html.count("fr-badge--success") == 2
    assert html.count("fr-badge--error") == 2


def test_points_land_where_the_components_france_puts_them():
    # Paris, and Ajaccio on Corsica moved 48 units west (reports/maps.py).
    paris = point_on_map(48.8566, 2.3522)
    ajaccio = point_on_map(41.9192, 8.7386, "2A")

    assert paris == pytest.approx((499, 235), abs=1.5)
    assert ajaccio == pytest.approx((948, 955), abs=1.5)
    assert point_on_map(41.9192, 8.7386) == ajaccio  # Corsica told by its position
    assert point_on_map(None, 2.35) is None
    assert point_on_map(16.24, -61.53, "971") is None
    assert point_on_map(51.5072, -0.1276) is None  # London


def test_region_codes_match_the_vendored_component_and_the_reference_data():
    bundle = (VENDOR / "DSFRChart.js").read_text(encoding="utf-8")
    table = re.findall(
        r'department_value: "(\w+)",\s+region: "[^"]+",\s+region_value: "(\w+)"', bundle
    )
    component_region_of = dict(table)

    assert len(component_region_of) == 101
    assert set(REGION_COMPONENT_CODES) == {code for code, _name in REGIONS}
    assert {
        code: REGION_COMPONENT_CODES[region] for code, _name, region in DEPARTMENTS
    } == component_region_of


def test_every_code_has_its_no_data_rule():
    css = (Path(settings.BASE_DIR) / "static" / "reports" / "map-no-data.css").read_text()
    rules = set(re.findall(r'\[data-no-data~="(\w+)"\] path\.FR-(\w+)', css))

    codes = {code for code, *_ in DEPARTMENTS} | set(REGION_COMPONENT_CODES.values())
    assert {code for code, same in rules if code == same} == codes


def test_the_vendored_components_are_pinned_and_define_the_tags():
    bundle = (VENDOR / "DSFRChart.js").read_text(encoding="utf-8")

    assert (VENDOR / "VERSION").read_text().startswith("@gouvfr/dsfr-chart 2.0.4")
    assert "MIT License" in (VENDOR / "LICENSE").read_text()
    for tag in COMPONENTS:
        assert f'customElements.define("{tag}"' in bundle
    # Nothing the policy forbids: no eval, no Function constructor, no remote import.
    assert "eval(" not in bundle
    assert "new Function" not in bundle
    assert not re.search(r"""import\s*\(\s*["']https?:""", bundle)
