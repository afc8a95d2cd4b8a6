// The explorer: pick a user, see their history, their recommendations and why, drawn as
// paths through the graph. Everything comes from the graphrec API this page is served by.

import { ApiError, explain, get, onKeyNeeded, technical } from "./api.js";
import { $, h, keyPrompt, notice, number, panel, setState, title, when } from "./dom.js";
import { modelParts } from "./model.js";
import { conceptName, drawPath, nodeText, sentence } from "./path.js";

const view = {
  user: null,
  models: [],
  defaultModel: null,
  items: new Map(), // item id -> Promise of GET /items/{id}
  tokens: {}, // panel -> latest request number, so late answers are dropped
  whyItem: null,
};

// A request number for a panel: \`current()\` is false once a newer request started.
function ticket(name) {
  view.tokens[name] = (view.tokens[name] || 0) + 1;
  const issued = view.tokens[name];
  return () => view.tokens[name] === issued;
}

function conceptChip(concept) {
  return h(
    "button",
    {
      type: "button",
      class: `chip kind-${concept.kind}`,
      title: `Only recommend items with ${concept.id}`,
      onclick: () => filterBy(concept.id),
    },
    h("span", { class: "kind" }, concept.kind),
    " ",
    conceptName(concept.id),
  );
}

function currentModel() {
  return $("#model").value || view.defaultModel || undefined;
}

function options() {
  const k = Math.min(100, Math.max(1, Number.parseInt($("#k").value, 10) || 10));
  return {
    k,
    model: currentModel(),
    concept: $("#concept").value.trim() || undefined,
    diversity: Number($("#diversity").value) || undefined,
  };
}

function remember() {
  const params = new URLSearchParams();
  if (view.user) params.set("user", view.user);
  const { k, model, concept, diversity } = options();
  if (model && model !== view.defaultModel) params.set("model", model);
  if (k !== 10) params.set("k", k);
  if (concept) params.set("concept", concept);
  if (diversity) params.set("diversity", diversity);
  const query = params.toString();
  window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
}

function itemInfo(id) {
  if (!view.items.has(id)) {
    const request = get(`/items/${encodeURIComponent(id)}`);
    request.catch(() => view.items.delete(id)); // try again next time
    view.items.set(id, request);
  }
  return view.items.get(id);
}

// -- models -----------------------------------------------------------------------------------
async function loadModels() {
  setState("model-panel", "loading", "Loading the served models…");
  try {
    const body = await get("/models");
    view.models = body.models;
    view.defaultModel = body.default;
    const select = $("#model");
    const wanted = new URLSearchParams(window.location.search).get("model");
    select.replaceChildren(
      ...body.models.map((m) =>
        h("option", { value: m.name, selected: m.name === (wanted || body.default) }, `${m.name} v${m.version}`),
      ),
    );
    $("#model-control").hidden = body.models.length < 2;
    renderModel();
  } catch (error) {
    setState("model-panel", "error", explain(error), technical(error));
  }
}

function renderModel() {
  const model = view.models.find((m) => m.name === currentModel());
  const { content } = panel("model-panel");
  content.replaceChildren(...(model ? modelParts(model) : []));
  if (model) setState("model-panel", "ready");
}

// -- users --------------------------------------------------------------------------------------
async function loadExamples() {
  const box = $("#examples");
  try {
    const body = await get("/users", { limit: 6 });
    if (!body.users.length) {
      box.replaceChildren(h("span", { class: "muted" }, "no user has interactions yet"));
      return;
    }
    box.replaceChildren(
      ...body.users.map((u) =>
        h("button", { type: "button", class: "example", "data-user": u.id, onclick: () => showUser(u.id),
          title: `${u.items} items` }, u.id),
      ),
    );
  } catch (error) {
    box.replaceChildren(h("span", { class: "error" }, explain(error)));
  }
}

let suggestTimer = null;
function suggestUsers() {
  clearTimeout(suggestTimer);
  const prefix = $("#user-id").value.trim();
  suggestTimer = setTimeout(async () => {
    try {
      const body = await get("/users", { prefix, limit: 10 });
      $("#user-suggestions").replaceChildren(...body.users.map((u) => h("option", { value: u.id }, `${u.items} items`)));
    } catch {
      // suggestions are a convenience: the search itself reports errors
    }
  }, 200);
}

function showUser(id) {
  view.user = id;
  view.whyItem = null;
  $("#user-id").value = id;
  document.querySelectorAll("#examples .example").forEach((b) => {
    b.setAttribute("aria-pressed", b.dataset.user === id ? "true" : "false");
  });
  notice("");
  remember();
  panel("why").content.replaceChildren();
  setState("why", "idle", "Choose “Why?” on a recommendation to see the paths through the graph that explain it.");
  loadHistory();
  loadRecommendations();
}

async function loadHistory() {
  const current = ticket("history");
  const user = view.user;
  const { content } = panel("history");
  setState("history", "loading", `Loading the history of ${user}…`);
  content.replaceChildren();
  try {
    const body = await get(`/users/${encodeURIComponent(user)}`, { recent: 10, top_concepts: 8, model: currentModel() });
    if (!current()) return;
    renderHistory(body);
  } catch (error) {
    if (!current()) return;
    if (error instanceof ApiError && error.status === 404 && /user/.test(error.message)) {
      setState("history", "error", `There is no user “${user}” in the graph.`);
      notice(`There is no user “${user}” in the graph. Check the id, or pick one of the example users.`);
    } else {
      setState("history", "error", explain(error), technical(error));
    }
  }
}

function renderHistory(body) {
  const { content } = panel("history");
  const ranking = {
    model: "ranked with their trained embedding",
    fold_in: "folded in from their items (they interacted after training)",
    popularity: "no embedding: they get the most popular items",
  }[body.source];
  const summary = h(
    "p",
    { class: "summary" },
    h("strong", {}, body.id), ": ",
    `${body.interactions} interactions with ${body.items} items`,
    body.last_interaction_ts !== null ? `, the latest ${when(body.last_interaction_ts)}` : "",
    ". ",
    h("span", { class: "muted" }, `${body.model.name} v${body.model.version}: ${ranking}.`),
  );
  const max = Math.max(1, ...body.top_concepts.map((c) => c.count));
  const concepts = body.top_concepts.length
    ? h("ul", { class: "bars", "aria-label": "Top concepts" },
      body.top_concepts.map((c) => {
        const bar = h("span", { class: `bar kind-${c.kind}` });
        bar.style.width = `${Math.round((100 * c.count) / max)}%`;
        return h("li", {},
          h("button", { type: "button", class: "bar-label", title: `Only recommend items with ${c.id}`, onclick: () => filterBy(c.id) },
            h("span", { class: "kind" }, c.kind), " ", conceptName(c.id)),
          h("span", { class: "bar-track", "aria-hidden": "true" }, bar),
          h("span", { class: "count" }, String(c.count)));
      }))
    : h("p", { class: "muted" }, "No concepts: no items yet.");
  const recent = body.recent.length
    ? h("ol", { class: "recent", "aria-label": "Most recent interactions" },
      body.recent.map((r) =>
        h("li", {},
          h("button", { type: "button", class: "link", onclick: () => loadSimilar(r.item_id, r.title) }, title(r)),
          h("span", { class: "muted" }, ` ${r.kind || "interaction"}${r.rating !== null && r.rating !== undefined ? ` ${r.rating}` : ""} · `),
          h("span", { class: "muted nowrap" }, when(r.ts)))))
    : h("p", { class: "muted" }, "No interactions yet.");
  content.replaceChildren(summary, h("h3", {}, "Top concepts"), concepts, h("h3", {}, "Most recent"), recent);
  setState("history", "ready");
  const suggestions = $("#concept-suggestions");
  const known = new Set([...suggestions.options].map((o) => o.value));
  for (const c of body.top_concepts) {
    if (!known.has(c.id)) suggestions.append(h("option", { value: c.id }));
  }
}

// -- recommendations ------------------------------------------------------------------------------
function filterBy(conceptId) {
  $("#concept").value = conceptId;
  if (view.user) {
    remember();
    loadRecommendations();
  }
}

async function loadRecommendations() {
  if (!view.user) return;
  const current = ticket("recommendations");
  const user = view.user;
  const params = options();
  const list = $("#rec-list");
  setState("recommendations", "loading", `Ranking items for ${user}…`);
  list.setAttribute("aria-busy", "true");
  try {
    const body = await get(`/users/${encodeURIComponent(user)}/recommendations`, params);
    if (!current()) return;
    renderRecommendations(body, params);
    performance.mark("graphrec:recommendations");
  } catch (error) {
    if (!current()) return;
    list.replaceChildren();
    let message = explain(error);
    if (error instanceof ApiError && error.status === 404) {
      if (/concept/.test(error.message)) message = `No concept “${params.concept}” in the graph. Clear the filter or pick a concept from the list.`;
      else if (/user/.test(error.message)) message = `There is no user “${user}” in the graph.`;
    }
    setState("recommendations", "error", message, technical(error));
  } finally {
    if (current()) list.setAttribute("aria-busy", "false");
  }
}

function renderRecommendations(body, params) {
  const list = $("#rec-list");
  const filter = params.concept ? ` with ${params.concept}` : "";
  const source = {
    model: "",
    fold_in: " · folded in",
    popularity: " · no embedding for this user: the most popular items",
  }[body.source];
  if (!body.items.length) {
    list.replaceChildren();
    setState("recommendations", "empty", `No item${filter} is left to recommend to ${body.user_id}.`);
    return;
  }
  list.replaceChildren(...body.items.map((item) => recommendationRow(body, item)));
  const diverse = params.diversity ? `, re-ranked for diversity ${params.diversity.toFixed(2)}` : "";
  setState(
    "recommendations",
    "ready",
    `${body.items.length} items${filter} by ${body.model.name} v${body.model.version}${diverse}${source}`,
  );
  for (const item of body.items) {
    itemInfo(item.item_id)
      .then((info) => {
        const slot = list.querySelector(`li[data-item="${CSS.escape(item.item_id)}"] .concepts`);
        if (!slot) return;
        slot.replaceChildren(...info.concepts.map(conceptChip));
        const suggestions = $("#concept-suggestions");
        const known = new Set([...suggestions.options].map((o) => o.value));
        for (const c of info.concepts) if (!known.has(c.id)) suggestions.append(h("option", { value: c.id }));
      })
      .catch(() => {});
  }
}

function recommendationRow(body, item) {
  return h(
    "li",
    { class: "rec", dataset: { item: item.item_id } },
    h("span", { class: "rank", "aria-hidden": "true" }, String(item.rank)),
    h("div", { class: "rec-main" },
      h("button", { type: "button", class: "link title", title: "Show similar items", onclick: () => loadSimilar(item.item_id, item.title) }, title(item)),
      h("span", { class: "score", title: body.fallback ? "popularity" : "model score" }, `score ${number(item.score)}`),
      h("div", { class: "concepts", "aria-label": "Concepts" })),
    h("button", {
      type: "button", class: "why", "aria-controls": "why", "aria-pressed": view.whyItem === item.item_id ? "true" : "false",
      "aria-label": `Why ${title(item)}?`, onclick: () => loadWhy(item),
    }, "Why?"),
  );
}

// -- explanations -------------------------------------------------------------------------------
async function loadWhy(item) {
  const current = ticket("why");
  const user = view.user;
  view.whyItem = item.item_id;
  document.querySelectorAll("#rec-list .why").forEach((b) => {
    b.setAttribute("aria-pressed", b.closest("li").dataset.item === item.item_id ? "true" : "false");
  });
  const { content } = panel("why");
  content.replaceChildren();
  setState("why", "loading", `Searching the graph for paths from ${user} to ${title(item)}…`);
  try {
    const body = await get(
      `/users/${encodeURIComponent(user)}/recommendations/${encodeURIComponent(item.item_id)}/explanation`,
      { max_paths: 4, max_hops: 3, model: currentModel() },
    );
    if (!current()) return;
    renderWhy(body, item);
  } catch (error) {
    if (!current()) return;
    setState("why", "error", explain(error), technical(error));
  }
}

const PATH_KINDS = {
  collaborative: "collaborative",
  content: "shared concept",
  knowledge_graph: "knowledge graph",
  co_engagement: "co-engagement",
  attribute: "user attribute",
};

function renderWhy(body, item) {
  const { content } = panel("why");
  const heading = h("p", { class: "why-head" }, "Why ", h("strong", {}, title(item)), ` for ${body.user_id}`);
  if (!body.paths.length) {
    content.replaceChildren(heading);
    setState("why", "empty", `No explanation path was found: ${body.reason || "no path connects them"}.`);
    return;
  }
  const paths = body.paths.map((path, i) => {
    const description = `Path ${i + 1}: ${path.nodes.map(nodeText).join(", then ")}`;
    return h("article", { class: "path", dataset: { kind: path.kind, index: i } },
      h("header", {},
        h("span", { class: `badge ${path.kind}` }, PATH_KINDS[path.kind] || path.kind),
        h("span", { class: "muted" }, ` score ${number(path.score)}`)),
      h("div", { class: "path-body" }, h("div", { class: "drawing" }, drawPath(path, description)), sentence(path.sentence)));
  });
  content.replaceChildren(heading, ...paths);
  const partial = body.partial ? ` Some path queries ran out of time (${body.timed_out.join(", ")}): these are what the others found.` : "";
  setState("why", "ready", partial.trim());
}

// -- similar items -------------------------------------------------------------------------------
async function loadSimilar(itemId, itemTitle) {
  const current = ticket("similar");
  const { content } = panel("similar");
  const name = itemTitle || `item ${itemId}`;
  content.replaceChildren();
  setState("similar", "loading", `Finding items similar to ${name}…`);
  try {
    const body = await get(`/items/${encodeURIComponent(itemId)}/similar`, { k: 8, model: currentModel() });
    if (!current()) return;
    content.replaceChildren(
      ...body.items.map((s) =>
        h("li", { dataset: { item: s.item_id } },
          h("button", { type: "button", class: "link", onclick: () => loadSimilar(s.item_id, s.title) }, title(s)),
          h("span", { class: "muted" }, ` cosine ${number(s.score)}`))),
    );
    setState("similar", body.items.length ? "ready" : "empty",
      body.items.length ? `Closest to ${name} (${body.model.name} v${body.model.version}):` : `No item is similar to ${name}.`);
  } catch (error) {
    if (!current()) return;
    const message = error instanceof ApiError && error.status === 404 && /embedding/.test(error.message)
      ? `${name} has no embedding in this model yet, so nothing is similar to it.`
      : explain(error);
    setState("similar", "error", message, technical(error));
  }
}

// -- wiring ---------------------------------------------------------------------------------------
function start() {
  onKeyNeeded(keyPrompt);
  const params = new URLSearchParams(window.location.search);
  if (params.get("k")) $("#k").value = params.get("k");
  if (params.get("concept")) $("#concept").value = params.get("concept");
  if (params.get("diversity")) $("#diversity").value = params.get("diversity");
  $("#diversity-value").textContent = Number($("#diversity").value).toFixed(2);

  $("#user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("#user-id").value.trim();
    if (id) showUser(id);
  });
  $("#user-id").addEventListener("input", suggestUsers);
  $("#rec-controls").addEventListener("submit", (event) => {
    event.preventDefault();
    remember();
    loadRecommendations();
  });
  $("#concept").addEventListener("change", () => {
    remember();
    loadRecommendations();
  });
  $("#clear-concept").addEventListener("click", () => filterBy(""));
  $("#diversity").addEventListener("input", () => {
    $("#diversity-value").textContent = Number($("#diversity").value).toFixed(2);
  });
  for (const id of ["#diversity", "#k"]) {
    $(id).addEventListener("change", () => {
      remember();
      loadRecommendations();
    });
  }
  $("#model").addEventListener("change", () => {
    remember();
    renderModel();
    if (view.user) showUser(view.user);
  });

  const models = loadModels();
  loadExamples();
  const user = params.get("user");
  if (user) models.then(() => showUser(user));
}

start();
