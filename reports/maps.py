"""Geography of the vendored map components (`@gouvfr/dsfr-chart` 2.0.4, static/vendor/).

`<map-chart>` draws France in a 1010 × 1010 SVG whose department paths are projected in
Lambert-93 (EPSG:2154, the official projection of metropolitan France) and scaled, with Corsica
moved 48 units west and 5 south to save room; overseas departments are drawn in small maps of
their own. The scale and offsets below were fitted on the extreme points of France (Bray-Dunes,
Puig de Comanegra, Lauterbourg, Pointe de Corsen; Capo Pertusato and Cap Corse for Corsica) to
within one unit (about 1 km), and `tests/browser/test_charts.py` checks that towns of a dozen
departments fall inside their own department's path. That is what lets us place host sites as
points on the component's own map (`point_on_map`).

`<map-chart-reg>` and `<map-chart level="reg">` name regions by codes of their own ("CVL",
"20R", overseas regions by their department's code) rather than by INSEE code:
`REGION_COMPONENT_CODES` translates.
"""

from __future__ import annotations

import math
from decimal import Decimal

# INSEE region code -> the component's region code (its bundled table of departments).
REGION_COMPONENT_CODES: dict[str, str] = {
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
    "11": "IDF",
    "24": "CVL",
    "27": "BFC",
    "28": "NOR",
    "32": "HDF",
    "44": "GES",
    "52": "PDL",
    "53": "BRE",
    "75": "NAQ",
    "76": "OCC",
    "84": "ARA",
    "93": "PAC",
    "94": "20R",
}

OVERSEAS_REGIONS = frozenset({"01", "02", "03", "04", "06"})
OVERSEAS_DEPARTMENTS = frozenset({"971", "972", "973", "974", "976"})
CORSICA = frozenset({"2A", "2B"})

# Lambert-93 metres -> map units: x = SCALE * E - X_OFFSET, y = Y_OFFSET - SCALE * N.
SCALE = 0.000947213
X_OFFSET = 118.53
Y_OFFSET = 6735.13
CORSICA_SHIFT = (-48.5, 5.3)
MAP_SIZE = 1010

# GRS80 ellipsoid and the Lambert-93 cone (IGN's parameters).
_A = 6378137.0
_F = 1 / 298.257222101
_E = math.sqrt(2 * _F - _F * _F)
_LAT0, _LON0 = math.radians(46.5), math.radians(3.0)
_LAT1, _LAT2 = math.radians(44.0), math.radians(49.0)
_X0, _Y0 = 700_000.0, 6_600_000.0


def _m(lat: float) -> float:
    return math.cos(lat) / math.sqrt(1 - (_E * math.sin(lat)) ** 2)


def _t(lat: float) -> float:
    sin = _E * math.sin(lat)
    return math.tan(math.pi / 4 - lat / 2) / ((1 - sin) / (1 + sin)) ** (_E / 2)


_N = (math.log(_m(_LAT1)) - math.log(_m(_LAT2))) / (math.log(_t(_LAT1)) - math.log(_t(_LAT2)))
_AF = _A * _m(_LAT1) / (_N * _t(_LAT1) ** _N)
_R0 = _AF * _t(_LAT0) ** _N


def lambert93(latitude: float, longitude: float) -> tuple[float, float]:
    """(easting, northing) in metres of a WGS84 point (GRS80 and WGS84 differ by < 1 mm)."""
    r = _AF * _t(math.radians(latitude)) ** _N
    theta = _N * (math.radians(longitude) - _LON0)
    return _X0 + r * math.sin(theta), _Y0 + _R0 - r * math.cos(theta)


def _in_corsica(latitude: float, longitude: float) -> bool:
    return 41.3 <= latitude <= 43.05 and 8.5 <= longitude <= 9.6


def _in_mainland(latitude: float, longitude: float) -> bool:
    return 42.3 <= latitude <= 51.1 and -5.2 <= longitude <= 8.3


def point_on_map(
    latitude: float | Decimal | None,
    longitude: float | Decimal | None,
    department: str | None = None,
) -> tuple[float, float] | None:
    """Where a WGS84 point falls on `<map-chart>`'s France (x, y in its 1010-unit SVG), or
    None when it is not drawn there: no coordinates, overseas, or outside France's box.
    `department` (INSEE code), when known, settles whether a point belongs to Corsica."""
    if latitude is None or longitude is None or department in OVERSEAS_DEPARTMENTS:
        return None
    lat, lon = float(latitude), float(longitude)
    corsica = department in CORSICA if department else _in_corsica(lat, lon)
    if not corsica and not _in_mainland(lat, lon):
        return None
    easting, northing = lambert93(lat, lon)
    x, y = SCALE * easting - X_OFFSET, Y_OFFSET - SCALE * northing
    if corsica:
        x, y = x + CORSICA_SHIFT[0], y + CORSICA_SHIFT[1]
    if not (0 <= x <= MAP_SIZE and 0 <= y <= MAP_SIZE):
        return None
    return round(x, 1), round(y, 1)
