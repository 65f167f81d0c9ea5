// Applications: list (server-paged), create, and per application its grant types, web
// origins, secret rotation and a ready curl.
import {api, page, config} from "../api.js";
import {h, field, input, select, form, table, pagedList, section, link, button, busy, status, lines, copy} from "../ui.js";
import {enableSwitch} from "./connections.js";

const PER_PAGE = 20;
export const GRANTS = [
  ["password", "Password"],
  ["http://auth0.com/oauth/grant-type/password-realm", "Password (realm)"],
  ["refresh_token", "Refresh token"],
  ["client_credentials", "Client credentials"],
  ["http://auth0.com/oauth/grant-type/mfa-otp", "MFA: one-time code"],
  ["http://auth0.com/oauth/grant-type/mfa-oob", "MFA: out of band"],
  ["http://auth0.com/oauth/grant-type/mfa-recovery-code", "MFA: recovery code"],
];
const APP_TYPES = [["regular_web", "Regular web app"], ["spa", "Single-page app"], ["native", "Native"],
  ["non_interactive", "Machine to machine"]];

function grantBoxes(selected) {
  return h("fieldset", {class: "grants"}, h("legend", {}, "Grant types"),
    GRANTS.map(([value, label]) => field(label, h("input", {type: "checkbox", name: "grant_types", value,
      checked: selected.includes(value)}))));
}

async function render(main, id) {
  if (id) return detail(main, id);
  const list = h("div", {});
  const load = pagedList(list, PER_PAGE, (n) => page("clients", "clients", n, PER_PAGE), (items) =>
    table("Applications", [
      ["Name", (c) => link(c.name, "#/applications/" + encodeURIComponent(c.client_id))],
      ["Type", (c) => c.app_type],
      ["Client ID", (c) => h("code", {}, c.client_id)],
    ], items, "No applications yet."));
  const create = form("Create an application", [
    field("Name", input("name", {required: true})),
    field("Type", select("app_type", APP_TYPES, "regular_web")),
    grantBoxes(["password", "http://auth0.com/oauth/grant-type/password-realm", "refresh_token"]),
  ], "Create application", async (data, f) => {
    const c = await api("POST", "clients", {name: data.get("name"), app_type: data.get("app_type"),
      grant_types: data.getAll("grant_types")});
    f.reset();
    status("Created " + c.name + (c.client_secret ? "; its secret is shown once below." : "."));
    load(0);
    shown.replaceChildren(c.client_secret ? secretBox(c.client_id, c.client_secret) : "");
  });
  const shown = h("div", {});
  main.append(section("Create an application", create, shown), section("All applications", list));
}

function secretBox(clientID, secret) {
  return h("div", {class: "secret", role: "region", "aria-label": "New client secret"},
    h("p", {}, "Client secret of ", h("code", {}, clientID), " (shown once: copy it now):"),
    h("output", {class: "mono", id: "client-secret"}, secret),
    button("Copy secret", () => copy(secret, "The secret")));
}

// curlFor is the password grant with this application, ready to paste (the secret and the
// user's password as placeholders: the console never knows them).
function curlFor(c) {
  const cfg = config();
  const parts = [`curl -s ${cfg.issuer}oauth/token`, "-d grant_type=password", `-d client_id=${c.client_id}`];
  if (c.token_endpoint_auth_method !== "none") parts.push("-d client_secret=CLIENT_SECRET");
  parts.push("-d username=USER -d password=PASSWORD", "-d 'scope=openid profile email'");
  return parts.join(" \\\n  ");
}

async function detail(main, id) {
  const c = await api("GET", "clients/" + encodeURIComponent(id));
  main.querySelector("h1").textContent = "Application: " + c.name;
  const out = h("div", {});
  const edit = form("Edit application", [
    field("Name", input("name", {value: c.name, required: true})),
    field("Description", input("description", {value: c.description || ""})),
    grantBoxes(c.grant_types || []),
    field("Web origins", h("textarea", {name: "web_origins", rows: 3}, (c.web_origins || []).join("\n")),
      "One origin per line (https://app.example.com): browser apps there may call the token endpoint."),
  ], "Save", async (data) => {
    await api("PATCH", "clients/" + encodeURIComponent(id), {name: data.get("name"), description: data.get("description"),
      grant_types: data.getAll("grant_types"), web_origins: lines(data.get("web_origins"))});
    status("Saved.");
  });
  const curl = curlFor(c);
  const rotate = button("Rotate secret", async (ev) => busy(ev.target, async () => {
    if (!confirm("Rotate the secret of " + c.name + "? The current secret stops working at once.")) return;
    const r = await api("POST", "clients/" + encodeURIComponent(id) + "/rotate-secret");
    out.replaceChildren(secretBox(id, r.client_secret));
    status("Secret rotated.");
  }), {disabled: c.token_endpoint_auth_method === "none"});
  const del = button("Delete application", async (ev) => busy(ev.target, async () => {
    if (!confirm("Delete " + c.name + "? Its tokens can no longer be refreshed.")) return;
    await api("DELETE", "clients/" + encodeURIComponent(id));
    location.hash = "#/applications";
  }), {class: "danger"});
  // The connections this application may sign users in through, a page at a time.
  const conns = h("div", {});
  pagedList(conns, 20, (n) => page("connections", "connections", n, 20), (items) => h("fieldset", {},
    h("legend", {}, "Connections this application may use"), items.map((conn) => enableSwitch(conn, c, conn.name))));
  main.append(
    section("Settings", h("dl", {class: "facts"}, h("dt", {}, "Client ID"), h("dd", {}, h("code", {}, c.client_id)),
      h("dt", {}, "Type"), h("dd", {}, c.app_type), h("dt", {}, "Authentication"), h("dd", {}, c.token_endpoint_auth_method)), edit),
    section("Connections", conns),
    section("Secret", h("p", {}, c.token_endpoint_auth_method === "none"
      ? "A public application has no secret." : "The secret is stored hashed: rotating shows the new one once."), rotate, out),
    section("Try it", h("pre", {class: "mono", id: "curl"}, curl), button("Copy curl", () => copy(curl, "The curl command"))),
    section("Danger zone", del));
}

export default {title: "Applications", render};
