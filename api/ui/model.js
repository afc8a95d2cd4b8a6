// The model panel: a served version's test metrics, training curve and parameters, as its
// Model node stores them (GET /models).

import { drawCurve } from "./chart.js";
import { h, number } from "./dom.js";

export function modelParts(model) {
  const headline = ["recall@20", "ndcg@20"].filter((key) => key in model.metrics);
  const others = Object.keys(model.metrics).filter((key) => !headline.includes(key));
  const row = (key, value) =>
    h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, typeof value === "object" ? JSON.stringify(value) : number(value, 4)));
  const parts = [
    h(
      "p",
      { class: "model-name" },
      h("strong", {}, `${model.name} v${model.version}`),
      model.default ? " (default)" : "",
      h("span", { class: "muted" }, ` · dim ${model.dim} · trained ${model.trained_at.replace("T", " ")}`),
    ),
    headline.length
      ? h("table", { class: "metrics", "aria-label": "Test metrics" }, h("tbody", {}, headline.map((k) => row(k, model.metrics[k]))))
      : h("p", { class: "muted" }, "No test metrics were stored with this version."),
  ];
  if (others.length) {
    parts.push(
      h("details", {}, h("summary", {}, `${others.length} more metrics`),
        h("table", { class: "metrics" }, h("tbody", {}, others.map((k) => row(k, model.metrics[k]))))),
    );
  }
  if (model.history.length) {
    const { svg, metric } = drawCurve(model.history, `Training curve of ${model.name} v${model.version}`);
    parts.push(
      h("figure", { class: "curve-figure" }, svg,
        h("figcaption", {},
          h("span", { class: "swatch loss" }), " loss (left)",
          metric ? [h("span", { class: "swatch val" }), ` ${metric} (right)`] : "",
          ` · ${model.history.length} epochs`)),
    );
  } else {
    parts.push(h("p", { class: "muted" }, "No training curve was saved with this version."));
  }
  const params = Object.entries(model.params);
  if (params.length) {
    parts.push(
      h("details", {}, h("summary", {}, "Training parameters"),
        h("table", { class: "metrics params" }, h("tbody", {}, params.map(([k, v]) =>
          h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))))))),
    );
  }
  return parts;
}
