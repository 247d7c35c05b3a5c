// Host sites on the dashboards' maps (reports/templatetags/charts.py): the page carries them as
// a server-rendered SVG layer, in the coordinates of <map-chart>'s own France (reports/maps.py).
// Once the component has drawn its map, move the layer into the map's SVG, so that the points
// sit on their departments and follow the component's zoom into a region.
const MAP_SVG = "map-chart .france_container svg, map-chart-reg .france_container svg";

function attach(figure) {
  const layer = figure.querySelector("g.releve-map-points");
  const map = figure.querySelector(MAP_SVG);
  if (!layer || !map) return !layer;
  map.appendChild(layer);
  return true;
}

for (const figure of document.querySelectorAll("figure.releve-map")) {
  if (attach(figure)) continue;
  const observer = new MutationObserver(() => {
    if (attach(figure)) observer.disconnect();
  });
  observer.observe(figure, { childList: true, subtree: true });
}
