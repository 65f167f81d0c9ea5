// Panels of the connection page for custom databases (strategy auth0 with
// enabledDatabaseCustomization: the scripts, read-only, and the import_mode switch) and for
// passwordless connections (email, sms: code length and lifetime, sign-up, brute-force
// protection, the message templates). A change PATCHes the options as read with one value
// changed: Auth0 replaces options as a whole, and the sealed values the API shows (a custom
// database's configuration) are kept as they are.
import {registerPanel} from "./connections.js";
import {h, field, input, form, section, status} from "../ui.js";

const SCRIPT_ORDER = ["login", "get_user", "create", "verify", "change_password", "change_email", "delete"];

async function patchOptions(api, conn, change) {
  const options = {...(conn.options || {}), ...change};
  const next = await api("PATCH", "connections/" + encodeURIComponent(conn.id), {options});
  conn.options = next.options;
  return next;
}

function facts(pairs, id) {
  return h("dl", {class: "facts", id}, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function customDatabase(conn, api) {
  const o = conn.options || {};
  if (!o.enabledDatabaseCustomization) return [];
  const scripts = o.customScripts || {};
  const names = Object.keys(scripts).sort((a, b) => {
    const ia = SCRIPT_ORDER.indexOf(a), ib = SCRIPT_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const importBox = h("input", {type: "checkbox", name: "import_mode", checked: !!o.import_mode});
  importBox.addEventListener("change", async () => {
    try {
      await patchOptions(api, conn, {import_mode: importBox.checked});
      status("Import users to Sesame " + (importBox.checked ? "on" : "off") + " for " + conn.name + ".");
    } catch (e) {
      importBox.checked = !importBox.checked;
      status(e.message || String(e), "error");
    }
  });
  const config = Object.keys(o.configuration || {}).sort();
  return section("Custom database",
    field("Import users to Sesame (import_mode: move each user at their first login)", importBox),
    facts([["Configuration keys", config.length ? config.join(", ") : "none"],
      ["Scripts", names.length ? names.join(", ") : "none"]], "customdb-facts"),
    h("p", {class: "hint"}, "Scripts are shown read-only; change them with the tenant file, the Deploy CLI or the Management API."),
    names.map((n) => h("details", {class: "script"}, h("summary", {}, n), h("pre", {class: "mono", "data-script": n}, scripts[n]))));
}

function passwordless(conn, api) {
  const o = conn.options || {};
  const totp = o.totp || {};
  const f = form("Passwordless options", [
    field("Code length (digits)", input("length", {type: "number", min: 4, max: 10, value: totp.length || 6})),
    field("Code lifetime (seconds)", input("time_step", {type: "number", min: 60, max: 86400, value: totp.time_step || 300})),
    field("Disable sign-ups", h("input", {type: "checkbox", name: "disable_signup", checked: !!o.disable_signup})),
    field("Brute-force protection", h("input", {type: "checkbox", name: "brute_force_protection", checked: o.brute_force_protection !== false})),
  ], "Save", async (data) => {
    await patchOptions(api, conn, {
      totp: {length: Number(data.get("length")), time_step: Number(data.get("time_step"))},
      disable_signup: data.get("disable_signup") === "on",
      brute_force_protection: data.get("brute_force_protection") === "on",
    });
    status("Passwordless options saved.");
  });
  const e = o.email || {};
  const templates = conn.strategy === "email" ?
    facts([["From", e.from || "(default)"], ["Subject", e.subject || "(default)"], ["Syntax", e.syntax || "liquid"],
      ["Body", e.body ? h("pre", {class: "mono"}, e.body) : "(default)"]]) :
    facts([["Message", o.template || "(default)"]]);
  return section("Passwordless", f, h("h3", {}, "Message"), templates);
}

registerPanel("auth0", customDatabase);
registerPanel("email", passwordless);
registerPanel("sms", passwordless);
