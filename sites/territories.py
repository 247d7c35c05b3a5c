"""France's real territories: the EPCI à fiscalité propre and their communes, loaded from the
data vendored in `sites/data/` (`scripts/vendor-decoupage.sh`), and the priority zones flagged
from a list of EPCI SIREN numbers. Both are reference-data writes run by management commands
(`load_territories`, `import_priority_zones`) and by the demo world; never by a migration (the
tests restore the migrations' data before each transactional test: 35,000 rows would be slow).

Populations are INSEE's legal municipal populations of the communes; a territory's is the sum of
its communes', so that rates per 10,000 inhabitants add up from communes to territories.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from sites.models import Commune, Department, Territory
from sites.validators import luhn_is_valid

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCE_FILE = "decoupage-administratif.json"
BATCH = 1000


def _read_gzip_json(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def data_source(data_dir: Path = DATA_DIR) -> dict:
    """Which package and version the vendored files come from."""
    return json.loads((data_dir / SOURCE_FILE).read_text(encoding="utf-8"))


@dataclass
class LoadReport:
    source: str
    territories_created: int = 0
    territories_updated: int = 0
    territories_unchanged: int = 0
    communes_created: int = 0
    communes_updated: int = 0
    communes_unchanged: int = 0
    communes_deleted: int = 0
    # Overseas collectivities (Saint-Pierre-et-Miquelon, Polynesia…) are not among the 101
    # departments: their communes are left out, and an EPCI with none of its communes kept too.
    communes_skipped: int = 0
    territories_skipped: int = 0

    def lines(self) -> list[str]:
        return [
            f"Source: {self.source}.",
            f"Territories (EPCI): {self.territories_created} created, "
            f"{self.territories_updated} updated, {self.territories_unchanged} unchanged"
            + (f", {self.territories_skipped} skipped" if self.territories_skipped else "")
            + ".",
            f"Communes: {self.communes_created} created, {self.communes_updated} updated, "
            f"{self.communes_unchanged} unchanged, {self.communes_deleted} deleted, "
            f"{self.communes_skipped} skipped (outside the 101 departments).",
        ]


def _main_department(members: list[dict]) -> str:
    """The department holding most of the members' population (ties: the lowest code)."""
    population: dict[str, int] = defaultdict(int)
    for commune in members:
        population[commune["department"]] += commune["population"]
    return min(population, key=lambda code: (-population[code], code))


@transaction.atomic
def load_territories(*, data_dir: Path = DATA_DIR) -> LoadReport:
    """Create or update a territory per EPCI and a row per commune, in bulk; idempotent (a second
    run writes nothing). A new territory is not a priority zone (`import_priority_zones` flags
    them); an existing one keeps its flag and managing structure. Territories that are not in
    the data (hand-made ones) are left alone."""
    source = data_source(data_dir)
    report = LoadReport(source=f"{source['package']}@{source['version']}")
    departments = set(Department.objects.values_list("code", flat=True))
    communes = {}
    for row in _read_gzip_json(data_dir / "communes.json.gz"):
        if row["department"] in departments:
            communes[row["code"]] = row
        else:
            report.communes_skipped += 1

    territory_of: dict[str, str] = {}  # commune code -> EPCI SIREN
    wanted: dict[str, tuple[str, str, int]] = {}  # SIREN -> name, department, population
    for epci in _read_gzip_json(data_dir / "epci.json.gz"):
        members = [communes[code] for code in epci["communes"] if code in communes]
        if not members:
            report.territories_skipped += 1
            continue
        for commune in members:
            territory_of[commune["code"]] = epci["siren"]
        wanted[epci["siren"]] = (
            epci["name"],
            _main_department(members),
            sum(commune["population"] for commune in members),
        )
    _load_territory_rows(wanted, report)

    territory_ids = dict(
        Territory.objects.filter(epci_siren__in=wanted).values_list("epci_siren", "pk")
    )
    _load_commune_rows(communes, territory_of, territory_ids, report)
    return report


def _load_territory_rows(wanted: dict[str, tuple[str, str, int]], report: LoadReport) -> None:
    existing = {t.epci_siren: t for t in Territory.objects.filter(epci_siren__in=wanted)}
    created, changed = [], []
    for siren, (name, department, population) in wanted.items():
        territory = existing.get(siren)
        if territory is None:
            created.append(
                Territory(
                    epci_siren=siren,
                    name=name,
                    department_id=department,
                    population=population,
                    is_priority=False,
                )
            )
        elif (territory.name, territory.department_id, territory.population) != (
            name,
            department,
            population,
        ):
            territory.name = name
            territory.department_id = department
            territory.population = population
            changed.append(territory)
    Territory.objects.bulk_create(created, batch_size=BATCH)
    Territory.objects.bulk_update(changed, ["name", "department", "population"], batch_size=BATCH)
    report.territories_created = len(created)
    report.territories_updated = len(changed)
    report.territories_unchanged = len(wanted) - len(created) - len(changed)


def _load_commune_rows(
    communes: dict[str, dict],
    territory_of: dict[str, str],
    territory_ids: dict[str, int],
    report: LoadReport,
) -> None:
    fields = ("name", "department_id", "postal_codes", "population", "territory_id")
    existing = {
        row[0]: row[1:]
        for row in Commune.objects.values_list("insee_code", *fields).iterator(chunk_size=5000)
    }
    created, changed = [], []
    for code, row in communes.items():
        siren = territory_of.get(code)
        values = (
            row["name"],
            row["department"],
            " ".join(row["postal_codes"]),
            row["population"],
            territory_ids[siren] if siren else None,
        )
        if code not in existing:
            created.append(Commune(insee_code=code, **dict(zip(fields, values, strict=True))))
        elif existing[code] != values:
            changed.append(Commune(insee_code=code, **dict(zip(fields, values, strict=True))))
    stale = set(existing) - set(communes)
    if stale:
        # Communes merged away since the last load (no row refers to a commune).
        Commune.objects.filter(insee_code__in=stale).delete()
    Commune.objects.bulk_create(created, batch_size=BATCH)
    Commune.objects.bulk_update(
        changed, [name.removesuffix("_id") for name in fields], batch_size=BATCH
    )
    report.communes_created = len(created)
    report.communes_updated = len(changed)
    report.communes_deleted = len(stale)
    report.communes_unchanged = len(communes) - len(created) - len(changed)


# --- Priority zones -------------------------------------------------------------------------


class PriorityZonesError(ValueError):
    """The file is refused; `problems` names each bad line. Nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class PriorityZonesReport:
    listed: int = 0
    flagged: list[str] = field(default_factory=list)  # SIRENs newly flagged
    unflagged: list[str] = field(default_factory=list)  # SIRENs no longer flagged
    already: int = 0


def read_priority_zones(content: bytes | str) -> list[tuple[int, str]]:
    """The (line number, SIREN) pairs of a priority-zone file, or PriorityZonesError.

    The format: a CSV file with a header line holding a `siren` column (other columns, such as
    `name`, are ignored), one EPCI SIREN per line; `;` or `,` separated; UTF-8 with or without
    a byte-order mark. Blank lines are skipped; a SIREN listed twice counts once.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PriorityZonesError(
                [f"The file is not UTF-8 text (byte {exc.start + 1})."]
            ) from None
    content = content.removeprefix("\ufeff")
    header = next((line for line in content.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in header else ","
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    rows = [(reader.line_num, row) for row in reader]
    rows = [(number, row) for number, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise PriorityZonesError(["The file is empty: it needs a header line with `siren`."])
    header_number, header_row = rows[0]
    columns = [cell.strip().lower() for cell in header_row]
    if "siren" not in columns:
        raise PriorityZonesError(
            [f"Line {header_number}: the header has no `siren` column (found: {header_row})."]
        )
    index = columns.index("siren")
    problems, entries, seen = [], [], set()
    for number, row in rows[1:]:
        siren = row[index].strip().replace(" ", "") if index < len(row) else ""
        if len(siren) != 9 or not siren.isdigit():
            problems.append(f"Line {number}: {siren!r} is not a SIREN number (9 digits).")
        elif not luhn_is_valid(siren):
            problems.append(f"Line {number}: {siren} has a wrong check digit.")
        elif siren not in seen:
            seen.add(siren)
            entries.append((number, siren))
    if problems:
        raise PriorityZonesError(problems)
    if not entries:
        raise PriorityZonesError(["The file lists no SIREN number."])
    return entries


@transaction.atomic
def import_priority_zones(
    entries: Iterable[tuple[int, str]], *, keep_others: bool = False
) -> PriorityZonesReport:
    """Flag exactly the listed territories as priority zones and, unless `keep_others`, unflag
    every other one. A SIREN that matches no territory refuses the whole file (nothing
    changes): load the territories first (`load_territories`)."""
    entries = list(entries)
    sirens = {siren for _number, siren in entries}
    known = set(
        Territory.objects.filter(epci_siren__in=sirens).values_list("epci_siren", flat=True)
    )
    unknown = [
        f"Line {number}: no territory has the SIREN number {siren}."
        for number, siren in entries
        if siren not in known
    ]
    if unknown:
        raise PriorityZonesError(unknown)
    report = PriorityZonesReport(listed=len(sirens))
    # Territories carry no history: flags are reference data, set in bulk.
    to_flag = Territory.objects.filter(epci_siren__in=sirens, is_priority=False)
    report.flagged = sorted(to_flag.values_list("epci_siren", flat=True))
    to_flag.update(is_priority=True)
    report.already = len(sirens) - len(report.flagged)
    if not keep_others:
        to_unflag = Territory.objects.filter(is_priority=True).exclude(epci_siren__in=sirens)
        report.unflagged = sorted(to_unflag.values_list("epci_siren", flat=True))
        to_unflag.update(is_priority=False)
    return report
