// Logs: the tenant log, filtered by type, user and IP (server-paged), and a live tail that
// polls the Management API's checkpoint paging (from = the last event seen).
import {api, page} from "../api.js";
import {h, field, input, form, table, pagedList, section, button, when, showError} from "../ui.js";

const PER_PAGE = 25;

// TYPES names Auth0's log event codes that Sesame writes.
export const TYPES = {
  s: "Success login", sepft: "Success exchange (password)", fepft: "Failed exchange (password)",
  fp: "Wrong password", fu: "Wrong username", f: "Failed login", sertft: "Success refresh",
  fertft: "Failed refresh", seccft: "Success client credentials", feccft: "Failed client credentials",
  limit_wc: "Blocked account", limit_mu: "Blocked IP", limit_sul: "Blocked user from IP", pwd_leak: "Breached password",
  sapi: "Management API write", fapi: "Failed Management API write", gd_auth_succeed: "MFA success",
  gd_auth_failed: "MFA failure", mfar: "MFA required", srrt: "Refresh token revoked", fu_blocked: "Blocked user",
};

export function logTable(items) {
  return table("Log events", [
    ["Date", (e) => when(e.date)],
    ["Type", (e) => h("span", {title: e.type}, (TYPES[e.type] || e.type) + " (" + e.type + ")")],
    ["Description", (e) => e.description || ""],
    ["User", (e) => e.user_name || e.user_id || ""],
    ["Application", (e) => e.client_name || e.client_id || ""],
    ["IP", (e) => e.ip || ""],
  ], items, "No log events.");
}

// filterQuery is the q of the filter form's values; quotes keep each value a single term.
export function filterQuery(type, user, ip) {
  const clean = (s) => s.trim().replace(/[\\"]/g, "");
  const parts = [];
  if (clean(type)) parts.push(`type:"${clean(type)}"`);
  if (clean(user)) {
    const u = clean(user);
    parts.push(u.includes("|") ? `user_id:"${u}"` : `(user_name:"${u}" OR user_id:"${u}")`);
  }
  if (clean(ip)) parts.push(`ip:"${clean(ip)}"`);
  return parts.join(" AND ");
}

async function render(main) {
  const list = h("div", {});
  let q = "";
  const load = pagedList(list, PER_PAGE, (n) => page("logs", "logs", n, PER_PAGE, q ? {q} : {}), logTable);
  const filter = form("Filter logs", [
    h("div", {class: "row"},
      field("Type", input("type", {placeholder: "sepft", list: "log-types"})),
      field("User", input("user", {placeholder: "user id or email"})),
      field("IP", input("ip", {placeholder: "203.0.113.7"}))),
    h("datalist", {id: "log-types"}, Object.entries(TYPES).map(([k, v]) => h("option", {value: k}, v))),
  ], "Filter", async (data) => { q = filterQuery(data.get("type"), data.get("user"), data.get("ip")); await load(0); });

  // The live tail: newest event first on screen; each poll asks for what came after the last.
  const tailBody = h("ol", {class: "tail", "aria-live": "polite", "aria-label": "Live events"});
  let last = "", timer = 0;
  const poll = async () => {
    try {
      if (!last) {
        const newest = await api("GET", "logs?take=1");
        last = newest.length ? newest[0].log_id : "";
        if (!last) return;
      }
      const evs = await api("GET", "logs?" + new URLSearchParams({from: last, take: "100"}));
      for (const e of evs) {
        tailBody.prepend(h("li", {}, h("time", {}, when(e.date)), " ", h("strong", {}, TYPES[e.type] || e.type),
          " ", e.description || "", " ", e.user_name || e.user_id || "", " ", e.ip || ""));
        last = e.log_id;
      }
      while (tailBody.children.length > 200) tailBody.lastChild.remove();
    } catch (e) {
      showError(e);
      stopTail();
    }
  };
  const toggle = button("Start live tail", () => (timer ? stopTail() : startTail()), {"aria-pressed": "false"});
  const startTail = () => {
    poll();
    timer = setInterval(poll, 2000);
    toggle.textContent = "Stop live tail";
    toggle.setAttribute("aria-pressed", "true");
  };
  const stopTail = () => {
    clearInterval(timer);
    timer = 0;
    toggle.textContent = "Start live tail";
    toggle.setAttribute("aria-pressed", "false");
  };
  main.append(section("Search", filter, list),
    section("Live tail", h("p", {}, "New events appear here as they happen (polled every 2 seconds)."), toggle, tailBody));
  return stopTail;
}

export default {title: "Logs", render};
