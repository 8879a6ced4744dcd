// Hand-rolled SVG charts (no library): a line chart and a grouped bar chart.
const NS = "http://www.w3.org/2000/svg";

function node(tag, attrs) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  return n;
}

/** points: numbers; yMax fixed or auto. Draws into the SVG's viewBox (height 150). */
export function lineChart(svg, points, { yMax = null, color = "#1f6feb", label = (v) => v } = {}) {
  svg.replaceChildren();
  const W = svg.viewBox.baseVal.width || 600, H = 150, P = 22;
  const max = yMax ?? Math.max(1, ...points);
  svg.append(node("line", { x1: P, y1: H - P, x2: W - 4, y2: H - P, stroke: "#dde3ea" }));
  const top = node("text", { x: 2, y: 12 }); top.textContent = label(max); svg.append(top);
  const zero = node("text", { x: 2, y: H - P }); zero.textContent = label(0); svg.append(zero);
  if (points.length < 2) return;
  const dx = (W - P - 4) / (points.length - 1);
  const d = points.map((v, i) => `${i ? "L" : "M"}${(P + i * dx).toFixed(1)},${(H - P - (v / max) * (H - P - 8)).toFixed(1)}`).join(" ");
  svg.append(node("path", { d, fill: "none", stroke: color, "stroke-width": 2 }));
}

/** series: [{name, color, values}], keys: x labels. */
export function barChart(svg, keys, series) {
  svg.replaceChildren();
  const W = svg.viewBox.baseVal.width || 600, H = 150, P = 20;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const gw = (W - P) / Math.max(1, keys.length);
  const bw = Math.max(2, (gw - 6) / series.length);
  keys.forEach((k, i) => {
    series.forEach((s, j) => {
      const h = (s.values[i] / max) * (H - P - 10);
      svg.append(node("rect", { x: P + i * gw + j * bw, y: H - P - h, width: bw - 1, height: h, fill: s.color }));
    });
    if (keys.length <= 24) {
      const tx = node("text", { x: P + i * gw, y: H - 6 }); tx.textContent = k.length > 12 ? `${k.slice(0, 11)}…` : k; svg.append(tx);
    }
  });
  const top = node("text", { x: 2, y: 12 }); top.textContent = String(max); svg.append(top);
}
