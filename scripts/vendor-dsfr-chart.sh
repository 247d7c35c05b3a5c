#!/usr/bin/env bash
# Vendor the State design system's charts (@gouvfr/dsfr-chart) into static/vendor/dsfr-chart/.
#
# Nothing is fetched at run or test time: this script is run by hand when the pinned version
# changes, and its output is committed. It needs npm (Node 20) and the npm registry.
#
# We keep the all-in-one build (DSFRChart.js + .css, 754 KB, ~200 KB gzipped) rather than
# LineChart.js, BarChart.js, MapChart.js and MapChartReg.js: each per-chart file bundles its
# own copy of Vue and Chart.js (440-570 KB each, 2 MB for the four), and a dashboard shows a
# line, a bar and a map on the same page; the package's README recommends the whole library
# as soon as more than two components are used. It registers <line-chart>, <bar-chart>,
# <map-chart>, <map-chart-reg> (and the others) and embeds the department and region
# geometry: no URL is requested at run time. The ES module build is loaded with
# <script type="module" src>: the UMD build ends in .cjs, which static servers do not
# label as JavaScript.
set -euo pipefail

VERSION="2.0.4"
PACKAGE="@gouvfr/dsfr-chart"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/static/vendor/dsfr-chart"
FILES=(DSFRChart/DSFRChart.js DSFRChart/DSFRChart.css)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
tar -xzf "$tarball" -C "$work"
packed_version="$(node -p "require('$work/package/package.json').version")"
if [ "$packed_version" != "$VERSION" ]; then
  echo "npm packed $PACKAGE $packed_version, expected $VERSION" >&2
  exit 1
fi

rm -rf "$DEST"
mkdir -p "$DEST"
for file in "${FILES[@]}"; do
  cp "$work/package/dist/$file" "$DEST/"
done
cp "$work/package/LICENSE" "$DEST/LICENSE"

integrity="$(cd "$work" && sha512sum "$(basename "$tarball")" | cut -d' ' -f1)"
{
  echo "$PACKAGE $VERSION (npm), MIT licence: see LICENSE."
  echo "Vendored by scripts/vendor-dsfr-chart.sh; do not edit these files by hand."
  echo "Tarball sha512: $integrity"
  echo "Files (from the package's dist/):"
  for file in "${FILES[@]}"; do
    echo "  $file  sha256 $(sha256sum "$DEST/$(basename "$file")" | cut -d' ' -f1)"
  done
} >"$DEST/VERSION"

echo "Vendored $PACKAGE $VERSION into ${DEST#"$ROOT"/}"
