// Every call the console makes to the API goes through here: the session cookie rides along
// (same origin), a 401 sends the visitor back to the login form, and every refusal, which the API
// sends as one shape (RFC 9457 problem details, docs/api.md), becomes one ApiError: `field` and
// `reason` from the first of the problem's `errors` (a validation problem), else `reason` is its
// `detail`.
"use strict";

export class ApiError extends Error {
  constructor(status, payload) {
    const problem = payload && typeof payload === "object" ? payload
      : { detail: typeof payload === "string" && payload ? payload : null };
    const first = Array.isArray(problem.errors) && problem.errors.length ? problem.errors[0] : null;
    super(problem.detail || problem.title || "HTTP " + status);
    this.status = status;
    this.problem = problem;
    this.detail = problem.detail || null;
    this.field = first && first.field !== undefined ? first.field : null;
    this.reason = first ? first.reason : this.detail;
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
    throw new ApiError(response.status, payload);
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
