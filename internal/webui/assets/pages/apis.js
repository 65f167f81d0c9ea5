// APIs (resource servers): list (server-paged), create, and per API its scopes, signing
// algorithm, token lifetime and offline access.
import {api, page} from "../api.js";
import {h, field, input, select, form, table, pagedList, section, link, status} from "../ui.js";

const PER_PAGE = 20;
const ALGS = ["RS256", "PS256", "ES256", "HS256"];

// scopeLines is the textarea form of scopes: "value: description" per line.
export function parseScopes(text) {
  return String(text || "").split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const i = l.indexOf(" ");
    const value = (i < 0 ? l : l.slice(0, i)).replace(/:$/, "");
    return {value, description: i < 0 ? value : l.slice(i + 1).replace(/^[-:\s]+/, "")};
  });
}

function settingsFields(rs) {
  return [
    field("Signing algorithm", select("signing_alg", ALGS, rs.signing_alg || "RS256")),
    field("Token lifetime (seconds)", input("token_lifetime", {type: "number", min: 60, value: rs.token_lifetime || 86400})),
    field("Allow offline access (refresh tokens)", h("input", {type: "checkbox", name: "allow_offline_access", checked: rs.allow_offline_access})),
    field("Scopes", h("textarea", {name: "scopes", rows: 5, class: "mono"},
      (rs.scopes || []).map((s) => s.value + " " + (s.description || "")).join("\n")),
    "One per line: the scope, a space, its description (read:orders Read orders)."),
  ];
}

function settingsBody(data) {
  return {signing_alg: data.get("signing_alg"), token_lifetime: Number(data.get("token_lifetime")),
    allow_offline_access: data.get("allow_offline_access") === "on", scopes: parseScopes(data.get("scopes"))};
}

async function render(main, id) {
  if (id) return detail(main, id);
  const list = h("div", {});
  const load = pagedList(list, PER_PAGE, (n) => page("resource-servers", "resource_servers", n, PER_PAGE), (items) =>
    table("APIs", [
      ["Name", (r) => link(r.name, "#/apis/" + encodeURIComponent(r.id))],
      ["Identifier (audience)", (r) => h("code", {}, r.identifier)],
      ["Algorithm", (r) => r.signing_alg],
      ["Scopes", (r) => String((r.scopes || []).length)],
    ], items, "No APIs yet."));
  const create = form("Create an API", [
    field("Name", input("name", {required: true})),
    field("Identifier", input("identifier", {required: true, placeholder: "https://api.example.com"}),
      "The audience apps ask tokens for; it cannot be changed later."),
    ...settingsFields({}),
  ], "Create API", async (data, f) => {
    await api("POST", "resource-servers", {name: data.get("name"), identifier: data.get("identifier"), ...settingsBody(data)});
    f.reset();
    status("API created.");
    await load(0);
  });
  main.append(section("All APIs", list), section("Create an API", create));
}

async function detail(main, id) {
  const rs = await api("GET", "resource-servers/" + encodeURIComponent(id));
  main.querySelector("h1").textContent = "API: " + rs.name;
  const edit = form("Edit API", [field("Name", input("name", {value: rs.name, required: true})), ...settingsFields(rs)],
    "Save", async (data) => {
      await api("PATCH", "resource-servers/" + encodeURIComponent(id), {name: data.get("name"), ...settingsBody(data)});
      status("Saved.");
    });
  main.append(section("Settings", h("p", {}, "Identifier: ", h("code", {}, rs.identifier)), edit));
}

export default {title: "APIs", render};
