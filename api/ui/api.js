// The explorer's only door to the graphrec API: same-origin GET requests with the read key
// (kept in sessionStorage, so it lives as long as the tab), and errors a person can read.

const KEY_STORAGE = "graphrec.apiKey";

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(typeof detail === "string" ? detail : describeDetail(detail));
    this.status = status;
    this.path = path;
  }
}

function describeDetail(detail) {
  if (Array.isArray(detail)) {
    return detail
      .map((d) => `${(d.loc || []).filter((p) => p !== "query" && p !== "path").join(".")}: ${d.msg}`)
      .join("; ");
  }
  return String(detail ?? "unknown error");
}

let askForKey = async () => null; // replaced by the page (a dialog)
let pendingKey = null; // one prompt for all requests waiting on it

export function onKeyNeeded(prompt) {
  askForKey = prompt;
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

async function newKey(reason) {
  if (!pendingKey) {
    pendingKey = askForKey(reason).finally(() => {
      pendingKey = null;
    });
  }
  const key = await pendingKey;
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  return key;
}

export function apiUrl(path, params = {}) {
  const url = new URL(path, window.location.origin + basePath());
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

function basePath() {
  // The page lives at <base>/ui/: the API is <base>/.
  const path = window.location.pathname;
  const at = path.lastIndexOf("/ui/");
  return at >= 0 ? path.slice(0, at + 1) : "/";
}

export async function get(path, params = {}) {
  const url = apiUrl(path.replace(/^\//, ""), params);
  for (;;) {
    const key = storedKey();
    const headers = { Accept: "application/json" };
    if (key) headers["X-API-Key"] = key;
    let response;
    try {
      response = await fetch(url, { headers, credentials: "omit" });
    } catch (error) {
      throw new ApiError(0, `the graphrec API cannot be reached (${error.message})`, path);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.ok) return body;
    const detail = body && body.detail !== undefined ? body.detail : response.statusText;
    // 401 missing_api_key: none given; 401 invalid_api_key, or 403 insufficient_scope: the
    // key given does not do.
    const code = body && body.code;
    const keyRejected =
      Boolean(key) &&
      (code === "invalid_api_key" ||
        code === "insufficient_scope" ||
        (response.status === 403 && /key/i.test(describeDetail(detail))));
    if (response.status === 401 || keyRejected) {
      const reason = keyRejected
        ? "That key was not accepted. Try another one."
        : "Reading from this API needs a key.";
      if (keyRejected) forgetKey();
      if (await newKey(reason)) continue;
      throw new ApiError(401, "no API key given: this API needs one for reads", path);
    }
    throw new ApiError(response.status, detail, path);
  }
}

// Readable text for an error, given what the request was about.
export function explain(error, what) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message}`;
  switch (error.status) {
    case 0:
      return "The graphrec API cannot be reached. Is graphrec serve still running?";
    case 401:
      return "This API needs a key for reads. Reload the page to enter one.";
    case 404:
      return what ? `${what} (${error.message})` : error.message;
    case 422:
      return `The request was not valid: ${error.message}`;
    case 503:
      return (
        "The graph database cannot be reached right now (503), so this part cannot be " +
        "shown. Recommendations still come from memory. Try again in a moment."
      );
    default:
      return `The API answered ${error.status}.`;
  }
}

// What the API said, for the errors whose readable text leaves it out.
export function technical(error) {
  if (!(error instanceof ApiError)) return null;
  return [0, 503].includes(error.status) || error.status >= 500 ? error.message : null;
}
