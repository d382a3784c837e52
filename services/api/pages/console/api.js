// Every call the console makes to the API goes through here: the session cookie rides along
// (same origin), a 401 sends the visitor back to the login form, and error bodies become one
// ApiError with the field path the API named (422 {detail: {field, reason}}).
"use strict";

export class ApiError extends Error {
  constructor(status, detail) {
    const text = typeof detail === "string" ? detail
      : detail && detail.reason ? (detail.field ? detail.field + ": " : "") + detail.reason
      : JSON.stringify(detail);
    super(text || "HTTP " + status);
    this.status = status;
    this.detail = detail;
    // FastAPI's own validation errors are a list of {loc, msg}: take the first as the field.
    if (Array.isArray(detail) && detail.length && detail[0].loc) {
      const loc = detail[0].loc.filter((p) => p !== "body");
      this.field = loc.map((p, i) => (typeof p === "number" ? "[" + p + "]" : (i ? "." : "") + p)).join("");
      this.reason = detail[0].msg;
    } else if (detail && typeof detail === "object") {
      this.field = detail.field || null;
      this.reason = detail.reason || detail.message || null;
    } else {
      this.field = null;
      this.reason = typeof detail === "string" ? detail : null;
    }
  }
}

const listeners = { unauthorized: [] };

export function onUnauthorized(fn) { listeners.unauthorized.push(fn); }

export async function api(method, path, body, { raw = false, quiet401 = false } = {}) {
  const init = { method, headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body;
  } else if (typeof body === "string") {
    init.body = body;
    init.headers["Content-Type"] = "text/csv; charset=utf-8";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const started = performance.now();
  const response = await fetch(path, init);
  const elapsed = performance.now() - started;
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    if (response.status === 401 && !quiet401) listeners.unauthorized.forEach((fn) => fn());
    const detail = payload && typeof payload === "object" && "detail" in payload ? payload.detail : payload;
    throw new ApiError(response.status, detail);
  }
  return raw ? { body: payload, elapsed, response } : payload;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body, opts);
export const put = (path, body, opts) => api("PUT", path, body, opts);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}
