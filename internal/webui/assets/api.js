// api.js: the console's only way to the server. The access token lives in this module's
// memory and nowhere else (no web storage, no cookie): a reload signs the administrator in
// again, and a page script of another origin has nothing to read.

let cfg = null;
let token = null;
let onExpired = () => {};

// ApiError is a failed call, with the Management API's (or the token endpoint's) own message.
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body || {};
  }
}

export async function loadConfig() {
  const res = await fetch("config.json", {cache: "no-store"});
  if (!res.ok) throw new Error("the console's settings could not be loaded (" + res.status + ")");
  cfg = await res.json();
  return cfg;
}

export function config() { return cfg; }

export function setToken(t, expired) {
  token = t;
  if (expired) onExpired = expired;
}

export function signedIn() { return token !== null; }

// claims decodes the payload of a JWT the server just gave us (no verification is needed:
// the page only reads what it was handed over TLS; the server checks every call).
export function claims(jwt) {
  const part = jwt.split(".")[1] || "";
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - b64.length % 4) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// tokenRequest posts a grant to the token endpoint as a form (Auth0's wire format) and
// returns the JSON answer, or throws ApiError with error_description (Auth0's text) and the
// body (mfa_required carries mfa_token).
export async function tokenRequest(params) {
  const res = await fetch(cfg.token_url, {method: "POST", body: new URLSearchParams(params)});
  let body = {};
  try { body = await res.json(); } catch { /* not JSON: keep {} */ }
  if (!res.ok) throw new ApiError(res.status, body.error_description || body.error || ("HTTP " + res.status), body);
  return body;
}

// mfaRequest calls the MFA API (/mfa/...) with the mfa_token as bearer.
export async function mfaRequest(path, mfaToken, body) {
  const init = {method: body ? "POST" : "GET", headers: {Authorization: "Bearer " + mfaToken}};
  if (body) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(cfg.token_url.replace(/oauth\/token$/, "mfa/") + path, init);
  let out = {};
  try { out = await res.json(); } catch { /* empty */ }
  if (!res.ok) throw new ApiError(res.status, out.error_description || out.error || ("HTTP " + res.status), out);
  return out;
}

// api calls the Management API: method, a path relative to /api/v2/ ("users?page=0"), and an
// optional JSON body. 401 means the token expired or was revoked: the console signs out.
export async function api(method, path, body) {
  // A page still loading when the session ended must not call with no token (nor sign the
  // administrator out a second time, over the sign-in form being typed into).
  if (!token) throw new ApiError(401, "Signed out");
  const sent = token;
  const init = {method, headers: {Authorization: "Bearer " + sent}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res = await fetch(cfg.api_path + path, init);
  // With management_api_rate_limit_per_minute set, a busy page (the overview counts in many
  // small requests) waits out a 429 as the SDKs do, twice at most.
  for (let i = 0; i < 2 && res.status === 429; i++) {
    const wait = Math.min(10, Number(res.headers.get("Retry-After")) || 1);
    await new Promise((r) => setTimeout(r, wait * 1000));
    res = await fetch(cfg.api_path + path, init);
  }
  if (res.status === 204) return null;
  let out = null;
  const text = await res.text();
  try { out = text ? JSON.parse(text) : null; } catch { out = {message: text}; }
  if (!res.ok) {
    const msg = (out && (out.message || out.error)) || ("HTTP " + res.status);
    if (res.status === 401 && token === sent) {
      token = null;
      onExpired(msg);
    }
    throw new ApiError(res.status, msg, out);
  }
  return out;
}

// page fetches one page of an offset-paged list with its total: {items, total}.
export async function page(path, key, pageNo, perPage, extra) {
  const q = new URLSearchParams(extra || {});
  q.set("page", String(pageNo));
  q.set("per_page", String(perPage));
  q.set("include_totals", "true");
  const sep = path.includes("?") ? "&" : "?";
  const out = await api("GET", path + sep + q.toString());
  if (Array.isArray(out)) return {items: out, total: out.length};
  return {items: out[key] || [], total: out.total ?? 0};
}
