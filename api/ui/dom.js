// Small DOM helpers the explorer's panels share: element building (text only, never HTML),
// a panel's state and status line, the page notice, the key dialog, value formatting.

export const $ = (selector, root = document) => root.querySelector(selector);

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function panel(id) {
  const section = document.getElementById(id);
  return { section, status: $(".status", section), content: $(".content", section) };
}

export function setState(id, state, message = "", detail = null) {
  const { section, status } = panel(id);
  section.dataset.state = state;
  section.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  status.replaceChildren(h("span", { class: "message" }, message));
  if (detail) {
    status.append(h("details", { class: "detail" }, h("summary", {}, "What the API said"), h("code", {}, detail)));
  }
  status.className = `status ${state === "error" ? "error" : "muted"}${state === "loading" ? " loading" : ""}`;
  status.hidden = !message;
}

export function notice(message) {
  const box = $("#notice");
  box.textContent = message || "";
  box.hidden = !message;
}

export function title(item) {
  return item.title || `item ${item.item_id ?? item.id}`;
}

export function when(ts) {
  if (ts === null || ts === undefined) return "time unknown";
  return new Date(ts * 1000).toISOString().slice(0, 16).replace("T", " ");
}

export function number(value, digits = 3) {
  return typeof value === "number" ? value.toFixed(digits) : String(value ?? "–");
}

// The key prompt: resolves to the key entered, or null when cancelled.
export function keyPrompt(reason) {
  const dialog = $("#key-dialog");
  const input = $("#api-key");
  $("#key-reason").textContent = reason;
  input.value = "";
  return new Promise((resolve) => {
    const finish = (value) => {
      $("#key-form").removeEventListener("submit", submit);
      $("#key-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("cancel", cancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const submit = (event) => {
      event.preventDefault();
      finish(input.value.trim() || null);
    };
    const cancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    $("#key-form").addEventListener("submit", submit);
    $("#key-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", cancel);
    dialog.showModal();
    input.focus();
  });
}
