#!/usr/bin/env bash
# Vendor France's intercommunalities (EPCI à fiscalité propre) and communes from the npm package
# @etalab/decoupage-administratif, pinned, into sites/data/ (`manage.py load_territories` reads
# them; nothing is fetched at run or test time). Needs npm (its registry reachable) and Python 3.
# Run it again to refresh after changing VERSION, then commit sites/data/.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE="@etalab/decoupage-administratif"
VERSION="6.0.0"
out="$PWD/sites/data"
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null && tar xzf ./*.tgz)
tarball=$(ls "$work"/*.tgz)
integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"

mkdir -p "$out"
"$python" - "$work/package" "$out" "$PACKAGE" "$VERSION" "$integrity" <<'PY'
"""Keep what Relève uses: current communes (code, name, department, postal codes, population)
and EPCI (SIREN, name, kind, member communes). Deterministic gzip (no timestamp), sorted rows."""

import gzip
import json
import sys
from pathlib import Path

package_dir, out, package, version, integrity = sys.argv[1:]
data = Path(package_dir) / "data"
meta = json.loads((Path(package_dir) / "package.json").read_text(encoding="utf-8"))
assert meta["version"] == version, (meta["version"], version)


def write(name, rows):
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    with open(Path(out) / name, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0
    ) as gz:
        gz.write(text.encode("utf-8"))


communes = [
    {
        "code": c["code"],
        "name": c["nom"],
        "department": c["departement"],
        "postal_codes": sorted(c.get("codesPostaux", [])),
        "population": c.get("population", 0),
    }
    for c in json.loads((data / "communes.json").read_text(encoding="utf-8"))
    if c["type"] == "commune-actuelle"
]
communes.sort(key=lambda c: c["code"])
epcis = [
    {
        "siren": e["code"],
        "name": e["nom"],
        "kind": e["type"],
        "communes": sorted(m["code"] for m in e["membres"]),
    }
    for e in json.loads((data / "epci.json").read_text(encoding="utf-8"))
]
epcis.sort(key=lambda e: e["siren"])
write("communes.json.gz", communes)
write("epci.json.gz", epcis)
source = {
    "package": package,
    "version": version,
    "integrity": integrity,
    "license": meta.get("license", ""),
    "files": {"communes.json.gz": len(communes), "epci.json.gz": len(epcis)},
}
(Path(out) / "decoupage-administratif.json").write_text(
    json.dumps(source, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
)
print(f"{package}@{version}: {len(epcis)} EPCI, {len(communes)} communes -> {out}")
PY
