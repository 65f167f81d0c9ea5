// The "Test connection" panel of ad and ldap connections: a login against the directory with
// a username and password, answered step by step (connect, service bind, search, entry, user
// bind, groups) by Sesame's POST connections/{id}/test (an extension; Auth0 has none).
import {registerPanel} from "./connections.js";
import {h, field, input, form, table, section, status} from "../ui.js";

function panel(conn, api) {
  const out = h("div", {id: "ldap-test-result", "aria-live": "polite"});
  const f = form("Test connection", [
    field("Username", input("username", {required: true})),
    field("Password", input("password", {type: "password", autocomplete: "off"})),
  ], "Test connection", async (data) => {
    const r = await api("POST", "connections/" + encodeURIComponent(conn.id) + "/test",
      {username: data.get("username"), password: data.get("password")});
    const verdict = r.succeeded ?
      "Login succeeded: " + r.user_id + (r.groups && r.groups.length ? " (groups: " + r.groups.join(", ") + ")" : "") +
        (r.blocked ? ". The entry is disabled: logins answer \u201cuser is blocked\u201d." : "") :
      "Login refused: " + r.explanation;
    out.replaceChildren(
      h("p", {class: "status " + (r.succeeded ? "ok" : "error"), id: "ldap-test-verdict"}, verdict),
      table("Steps against " + r.url + " (timeout " + r.timeout + ")", [
        ["Step", (s) => s.name],
        ["Detail", (s) => s.detail],
        ["Result", (s) => s.ok ? "ok" : "failed: " + s.error],
        ["Took", (s) => s.took_ms.toFixed(1) + " ms"],
      ], r.steps, "No step ran."));
    status(r.succeeded ? "Test login succeeded." : "Test login refused.", r.succeeded ? "ok" : "error");
  });
  return section("Test connection", h("p", {class: "hint"}, "Logs in against the directory as the token endpoint would, and shows each step. Nothing is saved."), f, out);
}

registerPanel("ad", panel);
registerPanel("ldap", panel);
