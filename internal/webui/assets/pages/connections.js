// Connections: list (server-paged) and per connection which applications may use it.
//
// Extension point: a strategy with abilities of its own (LDAP's "test connection", custom
// database scripts, passwordless) adds a panel with registerPanel(strategy, render), where
// render(connection, api) returns the elements (or a promise of them) to show on that
// connection's page. Such a module (pages/connection-ldap.js, say) imports registerPanel
// from here, calls it at load, and is imported once by app.js beside the pages.
import {api, page} from "../api.js";
import {h, table, pagedList, section, link, status, showError, field} from "../ui.js";

const PER_PAGE = 20;
const panels = new Map();

export function registerPanel(strategy, render) {
  panels.set(strategy, render);
}

async function render(main, id) {
  if (id) return detail(main, id);
  const list = h("div", {});
  pagedList(list, PER_PAGE, (n) => page("connections", "connections", n, PER_PAGE), (items) =>
    table("Connections", [
      ["Name", (c) => link(c.name, "#/connections/" + encodeURIComponent(c.id))],
      ["Strategy", (c) => c.strategy],
      ["Applications", (c) => String((c.enabled_clients || []).length)],
    ], items, "No connections."));
  main.append(section("All connections", list));
}

// enableSwitch is a labelled checkbox that lets (or stops) an application sign users in
// through a connection; the connections page and an application's page both use it.
export function enableSwitch(conn, client, label) {
  const box = h("input", {type: "checkbox", checked: (conn.enabled_clients || []).includes(client.client_id)});
  box.addEventListener("change", async () => {
    try {
      await api("PATCH", "connections/" + encodeURIComponent(conn.id) + "/clients", [{client_id: client.client_id, status: box.checked}]);
      status((box.checked ? "Enabled " : "Disabled ") + client.name + " on " + conn.name + ".");
    } catch (e) {
      box.checked = !box.checked;
      showError(e);
    }
  });
  return field(label, box);
}

async function detail(main, id) {
  const enc = encodeURIComponent(id);
  const conn = await api("GET", "connections/" + enc);
  main.querySelector("h1").textContent = "Connection: " + conn.name;
  const apps = h("div", {});
  // Every application, a page at a time, with a switch each: PATCH .../clients changes one.
  pagedList(apps, PER_PAGE, (n) => page("clients", "clients", n, PER_PAGE), (items) => h("fieldset", {},
    h("legend", {}, "Applications that may sign users in here"),
    items.map((c) => enableSwitch(conn, c, c.name))));
  main.append(section("Settings", h("dl", {class: "facts"}, h("dt", {}, "Strategy"), h("dd", {}, conn.strategy),
    h("dt", {}, "ID"), h("dd", {}, h("code", {}, conn.id)))), section("Applications", apps));
  const extra = panels.get(conn.strategy);
  if (extra) main.append(...[].concat(await extra(conn, api)));
}

export default {title: "Connections", render};
