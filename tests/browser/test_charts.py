"""The dashboards' charts and maps (reports/templatetags/charts.py) in Debian's Chromium: the
vendored @gouvfr/dsfr-chart components draw under the strict Content-Security-Policy, each
beside a table of the same numbers, host sites land on their own department, and axe finds
nothing serious. The page is test-only: a URLconf of this module, no public route."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.utils import translation
from django.utils.translation import gettext

from tests.browser.axe import assert_no_serious_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.urls(__name__),
]

TEMPLATE = """{% extends "base.html" %}{% load charts %}
{% block page_title %}Graphiques{% endblock %}
{% block main %}
  <h1>Graphiques</h1>
  <h2>Jours</h2>
  {% line_chart "Jours par semaine et par territoire" weeks days unit="j" x_title="Semaine" %}
  {% bar_chart "Remplissage par territoire" territories fill unit="%" x_title="Territoire" %}
  {% bar_chart "Ancienneté des suivis" sites_names ageing stacked=True x_title="Lieu" %}
  <h2>Cartes</h2>
  {% department_map "Zones prioritaires" coverage unit="%" total=61.5 sites=sites links=links %}
  {% department_map "Centre-Val de Loire" centre unit="%" region="24" %}
  {% region_map "Couverture par région" regions unit="%" %}
{% endblock %}
"""

# Host sites in towns of a dozen departments (Corsica's two included), one overseas and one
# without coordinates: listed in the table, not drawn.
TOWNS = [
    ("MSP de Paris 14e", "75", 48.8566, 2.3522, True),
    ("Centre de santé de Brest", "29", 48.39, -4.49, False),
    ("MSP de Strasbourg", "67", 48.5734, 7.7521, True),
    ("MSP de Marseille", "13", 43.2965, 5.3698, True),
    ("MSP de Lille", "59", 50.6292, 3.0573, False),
    ("Ajaccio — cabinet secondaire", "2A", 41.9192, 8.7386, True),
    ("Bastia — cabinet éphémère", "2B", 42.7028, 9.4503, False),
    ("MSP de Perpignan", "66", 42.6887, 2.8948, True),
    ("MSP de Bourges", "18", 47.081, 2.3988, True),
    ("MSP de Châteauroux", "36", 46.5802, 1.6742, False),
    ("MSP de Belfort", "90", 47.638, 6.8628, True),
    ("MSP de Nanterre", "92", 48.8924, 2.2369, True),
]
SITES = [
    {"name": name, "department": code, "latitude": lat, "longitude": lon, "ready": ready}
    for name, code, lat, lon, ready in TOWNS
] + [
    {"name": "MSP de Pointe-à-Pitre", "department": "971", "latitude": 16.2411,
     "longitude": -61.5331, "ready": True},
    {"name": "MSP « Côte-d’Or » sans position", "department": "21", "latitude": None,
     "longitude": None, "ready": False, "url": "/lieux/"},
]  # fmt: skip
CENTRE = {"18": 40, "28": 0, "36": 12.5, "37": 100, "41": 75, "45": 33.333}
CONTEXT = {
    "weeks": [datetime.date(2026, 12, 7), datetime.date(2026, 12, 14), datetime.date(2026, 12, 21)],
    "days": {"Pays de Bourges": [3, 5, 4], "Côte-d’Or « Nord »": [1, 0, 2.5]},
    "territories": ["Pays de Bourges", "Boischaut Sud", "Sancerrois"],
    "fill": {"Taux de remplissage": [75, 40.5, 0]},
    "sites_names": ["MSP de Bourges", "MSP de Châteauroux"],
    "ageing": {"< 1 j": [3, 1], "1–3 j": [2, 0], "3–7 j": [0, 4], "> 7 j": [1, 2]},
    "coverage": {"18": 40, "36": 12.5, "75": 90, "2A": 55, "971": 20},
    "sites": SITES,
    "links": {"18": "/couverture/?departement=18"},
    "centre": CENTRE,
    "regions": {"24": 35, "94": 60, "01": 20},
}

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def charts_page(request):
    page = engines["django"].from_string(TEMPLATE)
    return HttpResponse(page.render(CONTEXT, request))


urlpatterns = [
    path("essai/graphiques/", charts_page),
    path("", include("config.urls")),
]

# Where each drawn point falls: the department path that contains its centre.
POINTS_IN = """() => {
  const svg = document.querySelector("#releve-chart-4 map-chart .france_container svg");
  const out = {};
  for (const mark of svg.querySelectorAll(".releve-map-points .releve-map-point")) {
    const box = mark.getBBox();
    const point = svg.createSVGPoint();
    point.x = box.x + box.width / 2;
    point.y = box.y + box.height / 2;
    const hits = [...svg.querySelectorAll("path")].filter((p) => p.isPointInFill(point));
    out[mark.querySelector("title").textContent] = hits.map((p) => p.getAttribute("class"));
  }
  return out;
}"""

DRAWN_PIXELS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
  return drawn;
}"""


def test_charts_and_maps_draw_under_the_policy_beside_tables_of_the_same_numbers(live_server, page):
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.add_init_script(WATCH)

    response = page.goto(f"{live_server.url}/essai/graphiques/")

    # The site's strict policy, unrelaxed: the components need no inline style nor eval.
    header = response.headers["content-security-policy"]
    policy = {name: values for name, *values in (part.split() for part in header.split(";"))}
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert "unsafe" not in header
    # The components are upgraded: Chart.js drew on each canvas, the maps drew their SVG.
    for chart in ("#releve-chart-1 line-chart", "#releve-chart-2 bar-chart"):
        canvas = page.locator(f"{chart} canvas")
        canvas.wait_for()
        page.wait_for_function(DRAWN_PIXELS, arg=canvas.element_handle())
    page.locator("#releve-chart-3 bar-chart canvas").wait_for()
    page.locator("#releve-chart-4 map-chart .france_container svg path.FR-18[fill]").wait_for()
    page.locator("#releve-chart-5 map-chart-reg .france_container svg path.FR-37[fill]").wait_for()
    page.locator("#releve-chart-6 map-chart .france_container svg path.FR-CVL[fill]").wait_for()

    # The line chart's table: a row per week, a column per territory, French numbers.
    table = page.locator("#releve-chart-1 table")
    assert table.locator("caption").text_content() == "Jours par semaine et par territoire"
    assert table.locator("thead th").all_text_contents() == [
        "Semaine", "Pays de Bourges", "Côte-d’Or « Nord »",
    ]  # fmt: skip
    assert [r.locator("th, td").all_text_contents() for r in table.locator("tbody tr").all()] == [
        ["07/12/2026", "3\u00a0j", "1\u00a0j"],
        ["14/12/2026", "5\u00a0j", "0\u00a0j"],
        ["21/12/2026", "4\u00a0j", "2,5\u00a0j"],
    ]
    ageing = page.locator("#releve-chart-3 table tbody tr").first.locator("td")
    assert ageing.all_text_contents() == ["3", "2", "0", "1"]

    # The map's colours follow the values; a department without one is grey ("no data").
    france = page.locator("#releve-chart-4 map-chart .france_container svg")
    assert france.locator("path.FR-75").get_attribute("fill") != france.locator(
        "path.FR-36"
    ).get_attribute("fill")
    grey = page.evaluate(
        "getComputedStyle(document.querySelector('#releve-chart-4 path.FR-23')).fill"
    )
    assert grey == "rgb(146, 146, 146)"
    rows = page.locator("#releve-chart-4 table[data-testid=map-table] tbody tr")
    assert rows.count() == 5
    assert rows.filter(has_text="Cher").locator("td").text_content() == "40\u00a0%"
    assert rows.filter(has_text="Cher").locator("a").get_attribute("href") == (
        "/couverture/?departement=18"
    )

    # Every host site with coordinates in mainland France or Corsica is drawn inside its own
    # department; the overseas one and the one without coordinates are listed only.
    page.wait_for_function(
        "document.querySelectorAll('#releve-chart-4 map-chart .releve-map-points > *').length"
        f" === {len(TOWNS)}"
    )
    where = page.evaluate(POINTS_IN)
    assert {title.rsplit(" — ", 1)[0]: hits for title, hits in where.items()} == {
        name: [f"FR-{code}"] for name, code, *_ in TOWNS
    }
    assert france.locator(".releve-map-point--not-ready").count() == 4
    sites = page.locator("#releve-chart-4 table[data-testid=map-sites] tbody tr")
    assert sites.count() == len(SITES)
    with translation.override("fr"):
        undrawn = ["Côte-d'Or", gettext("not ready"), gettext("no")]
    assert sites.filter(has_text="sans position").locator("td").all_text_contents() == undrawn
    assert sites.locator(".fr-badge--error").count() == 5

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#releve-chart-4").screenshot(path=SCREENSHOTS / "charts-france.png")
    page.locator("#releve-chart-5").screenshot(path=SCREENSHOTS / "charts-region.png")

    # Drilling into a region (the component's own click) zooms the points with the map.
    page.locator("#releve-chart-4 path.FR-36").dispatch_event("click")
    page.wait_for_function(
        "document.querySelector('#releve-chart-4 .france_container svg')"
        ".getAttribute('viewBox') !== '0 0 1010 1010'"
    )
    assert france.locator(".releve-map-points > *").count() == len(TOWNS)

    # The region's map shows its six departments only, coloured by their values.
    region = page.locator("#releve-chart-5 map-chart-reg .france_container svg")
    shown = region.evaluate(
        "svg => [...svg.querySelectorAll('path')]"
        ".filter(p => getComputedStyle(p).display !== 'none').map(p => p.getAttribute('class'))"
    )
    assert sorted(shown) == sorted(f"FR-{code}" for code in CENTRE)
    assert page.locator("#releve-chart-5 table tbody tr").count() == 6
    assert page.locator("#releve-chart-5 tr[data-code='45'] td").text_content() == "33,33\u00a0%"

    # The tables open (DSFR's own script runs under the policy), and axe is content with the
    # whole page, tables shown.
    for button in page.locator(".releve-chart__data .fr-accordion__btn").all():
        button.click()
        page.locator(f"#{button.get_attribute('aria-controls')}").locator("table").wait_for()
    page.screenshot(path=SCREENSHOTS / "charts.png", full_page=True)

    assert page.evaluate("window.__violations") == []
    assert [m for m in messages if m.startswith(("error", "pageerror", "warning"))] == []
    assert_no_serious_violations(page)
