// The training curve: loss per epoch (left axis) and one validation metric (right axis).

const SVG = "http://www.w3.org/2000/svg";
const W = 360;
const H = 190;
const PAD = { left: 48, right: 52, top: 14, bottom: 34 };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function finite(values) {
  return values.filter((v) => typeof v === "number" && Number.isFinite(v));
}

function scale(values) {
  const known = finite(values);
  let lo = Math.min(...known);
  let hi = Math.max(...known);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  return { lo, hi };
}

function fmt(value) {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

// The validation metric to draw: recall at some k if recorded, else the first val_ key.
export function validationKey(history) {
  const keys = [...new Set(history.flatMap((row) => Object.keys(row)))].filter((k) =>
    k.startsWith("val_"),
  );
  return keys.find((k) => k.startsWith("val_recall")) || keys[0] || null;
}

function series(history, key, range, x, cls) {
  const y = (v) => PAD.top + (1 - (v - range.lo) / (range.hi - range.lo)) * (H - PAD.top - PAD.bottom);
  const points = history
    .filter((row) => typeof row[key] === "number" && Number.isFinite(row[key]))
    .map((row) => `${x(row.epoch).toFixed(1)},${y(row[key]).toFixed(1)}`);
  const group = el("g", { class: `series ${cls}` });
  if (points.length > 1) group.append(el("polyline", { points: points.join(" ") }));
  for (const point of points) {
    const [cx, cy] = point.split(",");
    group.append(el("circle", { cx, cy, r: 2.2 }));
  }
  return group;
}

export function drawCurve(history, title) {
  const metric = validationKey(history);
  const epochs = history.map((row) => row.epoch);
  const first = Math.min(...epochs);
  const last = Math.max(...epochs);
  const span = Math.max(1, last - first);
  const x = (epoch) => PAD.left + ((epoch - first) / span) * (W - PAD.left - PAD.right);
  const svg = el("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "curve",
    role: "img",
    "aria-label": title,
  });
  const bottom = H - PAD.bottom;
  svg.append(el("line", { x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom, class: "axis" }));
  svg.append(el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom, class: "axis" }));
  svg.append(el("text", { x: PAD.left, y: bottom + 14, class: "tick start" }, String(first)));
  svg.append(el("text", { x: W - PAD.right, y: bottom + 14, class: "tick end" }, String(last)));
  svg.append(el("text", { x: W / 2, y: H - 4, class: "axis-title" }, "epoch"));

  const loss = scale(history.map((row) => row.loss));
  svg.append(el("text", { x: PAD.left - 5, y: PAD.top + 4, class: "tick end loss" }, fmt(loss.hi)));
  svg.append(el("text", { x: PAD.left - 5, y: bottom, class: "tick end loss" }, fmt(loss.lo)));
  svg.append(series(history, "loss", loss, x, "loss"));
  if (metric && finite(history.map((row) => row[metric])).length) {
    const right = W - PAD.right;
    svg.append(el("line", { x1: right, y1: PAD.top, x2: right, y2: bottom, class: "axis" }));
    const range = scale(history.map((row) => row[metric]));
    svg.append(el("text", { x: right + 5, y: PAD.top + 4, class: "tick start val" }, fmt(range.hi)));
    svg.append(el("text", { x: right + 5, y: bottom, class: "tick start val" }, fmt(range.lo)));
    svg.append(series(history, metric, range, x, "val"));
  }
  return { svg, metric };
}
