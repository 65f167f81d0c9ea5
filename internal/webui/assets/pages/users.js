// Users: search (Auth0's q syntax, server-paged), create, and per user block/unblock, brute-
// force blocks, MFA reset, metadata, the user's log events and refresh tokens.
import {api, page, config} from "../api.js";
import {h, field, input, select, form, table, pagedList, section, link, button, busy, status, when} from "../ui.js";
import {logTable} from "./logs.js";

const PER_PAGE = 20;

// queryFor turns what an administrator types into a search: a q expression as is (it names a
// field or uses an operator), otherwise a prefix match on email, name or username.
export function queryFor(text) {
  const t = text.trim();
  if (!t) return "";
  if (/[:*"()]/.test(t) || /\b(AND|OR|NOT)\b/.test(t)) return t;
  const v = t.replace(/[\\"]/g, "");
  return `email:${v}* OR name:${v}* OR username:${v}*`;
}

async function render(main, id) {
  if (id) return detail(main, id);
  const list = h("div", {});
  let q = "";
  const load = pagedList(list, PER_PAGE, (n) => page("users", "users", n, PER_PAGE, q ? {q, search_engine: "v3"} : {}), (items) =>
    table("Users", [
      ["Email", (u) => link(u.email || u.username || u.user_id, "#/users/" + encodeURIComponent(u.user_id))],
      ["Connection", (u) => (u.identities && u.identities[0] && u.identities[0].connection) || ""],
      ["Logins", (u) => String(u.logins_count ?? 0)],
      ["Last login", (u) => when(u.last_login)],
      ["Status", (u) => u.blocked ? h("span", {class: "badge revoked"}, "blocked") : "active"],
    ], items, "No users match."));
  const search = form("Search users", [
    field("Search", input("q", {type: "search", placeholder: "jane@ or email:*@example.com"}),
      "A name or email prefix, or Auth0's query syntax (blocked:true, logins_count:[10 TO *])."),
  ], "Search", async (data) => { q = queryFor(data.get("q")); await load(0); });
  const realms = config().realms;
  const create = form("Create a user", [
    field("Connection", input("connection", {value: realms[0] || "Username-Password-Authentication", required: true})),
    field("Email", input("email", {type: "email", required: true})),
    field("Password", input("password", {type: "password", autocomplete: "new-password", required: true})),
  ], "Create user", async (data, f) => {
    const u = await api("POST", "users", {connection: data.get("connection"), email: data.get("email"),
      password: data.get("password")});
    f.reset();
    status("Created " + u.email + ".");
    await load(0);
  });
  main.append(section("Find users", search, list), section("Create a user", create));
}

async function detail(main, id) {
  const enc = encodeURIComponent(id);
  let u = await api("GET", "users/" + enc);
  main.querySelector("h1").textContent = "User: " + (u.email || u.username || id);
  const facts = h("dl", {class: "facts"});
  const drawFacts = () => facts.replaceChildren(
    h("dt", {}, "User ID"), h("dd", {}, h("code", {}, u.user_id)),
    h("dt", {}, "Email"), h("dd", {}, u.email || "—"),
    h("dt", {}, "Connection"), h("dd", {}, (u.identities && u.identities[0] && u.identities[0].connection) || "—"),
    h("dt", {}, "Logins"), h("dd", {}, String(u.logins_count ?? 0)),
    h("dt", {}, "Last login"), h("dd", {}, when(u.last_login)),
    h("dt", {}, "Status"), h("dd", {id: "user-status"}, u.blocked ? "blocked" : "active"));
  drawFacts();
  const blockBtn = button(u.blocked ? "Unblock user" : "Block user", (ev) => busy(ev.target, async () => {
    u = await api("PATCH", "users/" + enc, {blocked: !u.blocked});
    blockBtn.textContent = u.blocked ? "Unblock user" : "Block user";
    drawFacts();
    status(u.blocked ? "Blocked: logins and refreshes now fail." : "Unblocked.");
  }), {id: "block-toggle"});
  const bfList = h("div", {});
  const loadBlocks = async () => {
    const b = await api("GET", "user-blocks/" + enc);
    bfList.replaceChildren(table("Brute-force blocks", [["Identifier", (x) => x.identifier], ["IP", (x) => x.ip || "any"]],
      b.blocked_for || [], "No brute-force blocks."));
  };
  const release = button("Release brute-force blocks", (ev) => busy(ev.target, async () => {
    await api("DELETE", "user-blocks/" + enc);
    status("Released.");
    await loadBlocks();
  }));
  const resetMFA = button("Reset MFA", (ev) => busy(ev.target, async () => {
    if (!confirm("Remove every MFA enrollment of this user? They enroll again at their next login.")) return;
    await api("DELETE", "users/" + enc + "/authenticators");
    status("MFA reset.");
  }));
  const meta = form("Metadata", [
    field("User metadata (JSON)", h("textarea", {name: "user_metadata", rows: 4, class: "mono"}, JSON.stringify(u.user_metadata || {}, null, 2))),
    field("App metadata (JSON)", h("textarea", {name: "app_metadata", rows: 4, class: "mono"}, JSON.stringify(u.app_metadata || {}, null, 2)),
      "Keys set to null are removed, as the Management API merges metadata."),
  ], "Save metadata", async (data) => {
    let um, am;
    try {
      um = JSON.parse(data.get("user_metadata") || "{}");
      am = JSON.parse(data.get("app_metadata") || "{}");
    } catch (e) {
      throw new Error("Metadata is not valid JSON: " + e.message);
    }
    u = await api("PATCH", "users/" + enc, {user_metadata: um, app_metadata: am});
    status("Metadata saved.");
  });
  const tokens = h("div", {id: "user-tokens"});
  const loadTokens = async (from) => {
    const q = new URLSearchParams({take: "20"});
    if (from) q.set("from", from);
    const r = await api("GET", "users/" + enc + "/refresh-tokens?" + q);
    tokens.replaceChildren(table("Refresh tokens", [
      ["Application", (t) => h("code", {}, t.client_id)],
      ["Created", (t) => when(t.created_at)],
      ["Expires", (t) => when(t.expires_at)],
      ["", (t) => button("Revoke", (ev) => busy(ev.target, async () => {
        await api("DELETE", "refresh-tokens/" + encodeURIComponent(t.id));
        status("Refresh token revoked.");
        await loadTokens();
      }), {"aria-label": "Revoke refresh token of " + t.client_id})],
    ], r.tokens || [], "No live refresh tokens."),
    r.next ? button("More", () => loadTokens(r.next)) : "");
  };
  const revokeAll = button("Revoke all refresh tokens", (ev) => busy(ev.target, async () => {
    await api("DELETE", "users/" + enc + "/refresh-tokens");
    status("All refresh tokens revoked.");
    await loadTokens();
  }));
  const logList = h("div", {id: "user-logs"});
  pagedList(logList, 10, (n) => page("logs", "logs", n, 10, {q: `user_id:"${id}"`}), (items) => logTable(items));
  main.append(
    section("Profile", facts, h("div", {class: "actions"}, blockBtn, resetMFA)),
    section("Brute-force blocks", bfList, release),
    section("Metadata", meta),
    section("Refresh tokens", tokens, revokeAll),
    section("Log events", logList));
  await Promise.all([loadBlocks(), loadTokens()]);
}

export default {title: "Users", render};
