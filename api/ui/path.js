// An explanation path drawn as a chain: nodes in reading order, at most PER_ROW to a row,
// rows wrapping like text. The layout depends on the path alone (same path, same drawing).
// Users are circles, items rounded squares, concepts diamonds; each kind has its colour.
// Edges are drawn without arrowheads: a path may walk a relationship against its direction
// (item <- other user), and the chain's order is the reading order.

const SVG = "http://www.w3.org/2000/svg";
export const PER_ROW = 4;
const STEP_X = 150; // centre to centre
const ROW_H = 124;
const MARGIN_X = 64;
const TOP = 30;
const NODE = 17; // half size of a node's shape
const MAX_LABEL = 20;

export const NODE_KINDS = {
  User: { cls: "user", title: "user" },
  Item: { cls: "item", title: "item" },
  Concept: { cls: "concept", title: "concept" },
};

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function nodeText(node) {
  if (node.label === "Concept") return node.name || conceptName(node.id);
  if (node.label === "Item") return node.name || `item ${node.id}`;
  return /^\d+ users$/.test(node.id) ? node.id : `user ${node.id}`;
}

// A concept id without its kind, and of a hierarchy path only the last part
// ("category:books > fiction" -> "fiction").
export function conceptName(id) {
  return id.replace(/^[a-z_]+:/, "").split(" > ").pop();
}

function shorten(text, max = MAX_LABEL) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function nodeShape(label, x, y, size = NODE) {
  if (label === "User") return el("circle", { cx: x, cy: y, r: size });
  if (label === "Concept") {
    const d = size * 1.2;
    return el("polygon", { points: `${x},${y - d} ${x + d},${y} ${x},${y + d} ${x - d},${y}` });
  }
  return el("rect", {
    x: x - size,
    y: y - size,
    width: 2 * size,
    height: 2 * size,
    rx: 5,
  });
}

export function layout(count) {
  return Array.from({ length: count }, (_, i) => ({
    x: MARGIN_X + (i % PER_ROW) * STEP_X,
    y: TOP + Math.floor(i / PER_ROW) * ROW_H,
  }));
}

// The relationship type above the line, its relation (kind, KG relation ...) below it.
function edge(svg, from, to, rel) {
  const group = el("g", { class: "edge" });
  let x;
  let y;
  if (from.y === to.y) {
    group.append(el("line", { x1: from.x + NODE + 5, y1: from.y, x2: to.x - NODE - 5, y2: to.y }));
    x = (from.x + to.x) / 2;
    y = from.y;
  } else {
    // Wrap to the next row: down from the row's last node, back left, down into the first.
    y = from.y + ROW_H / 2 - 4;
    group.append(
      el("polyline", {
        points: `${from.x},${from.y + NODE + 22} ${from.x},${y} ${to.x},${y} ${to.x},${to.y - NODE - 5}`,
      }),
    );
    x = (from.x + to.x) / 2;
  }
  group.append(el("text", { x, y: y - 5, class: "rel type" }, shorten(rel.type || "", 18)));
  if (rel.relation) {
    group.append(el("text", { x, y: y + 12, class: "rel relation" }, shorten(rel.relation, 18)));
  }
  svg.append(group);
}

// The drawing of one path: an <svg> whose node groups carry data-id and data-label.
export function drawPath(path, description) {
  const nodes = path.nodes;
  const points = layout(nodes.length);
  const columns = Math.min(nodes.length, PER_ROW);
  const rows = Math.ceil(nodes.length / PER_ROW);
  const width = 2 * MARGIN_X + (columns - 1) * STEP_X;
  const height = TOP + (rows - 1) * ROW_H + 44;
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    class: "path-drawing",
    role: "img",
    "aria-label": description,
  });
  for (let i = 0; i + 1 < nodes.length; i += 1) {
    edge(svg, points[i], points[i + 1], path.relationships[i] || { type: "" });
  }
  nodes.forEach((node, i) => {
    const kind = NODE_KINDS[node.label] || NODE_KINDS.Item;
    const ends = i === 0 || i === nodes.length - 1 ? " end" : "";
    const group = el("g", {
      class: `node ${kind.cls}${ends}`,
      "data-id": node.id,
      "data-label": node.label,
      "data-index": i,
    });
    const full = `${kind.title}: ${nodeText(node)}`;
    group.append(el("title", {}, full));
    group.append(nodeShape(node.label, points[i].x, points[i].y));
    group.append(
      el("text", { x: points[i].x, y: points[i].y + NODE + 17, class: "label" }, shorten(nodeText(node))),
    );
    svg.append(group);
  });
  return svg;
}

// A sentence with *emphasis* as <em>, built from text nodes (never HTML).
export function sentence(text) {
  const out = document.createElement("p");
  out.className = "sentence";
  text.split(/(\*[^*]+\*)/).forEach((part) => {
    if (/^\*[^*]+\*$/.test(part)) {
      const em = document.createElement("em");
      em.textContent = part.slice(1, -1);
      out.append(em);
    } else if (part) {
      out.append(document.createTextNode(part));
    }
  });
  return out;
}
