// Actions: list (server-paged), create, edit the code (the server compiles it and answers
// the line and column of a syntax error), deploy, and bind deployed actions to a trigger in
// order, and test the draft against a sample post-login event (POST actions/actions/{id}/test).
import {api, page} from "../api.js";
import {h, field, input, select, form, table, pagedList, section, link, button, busy, status} from "../ui.js";

const PER_PAGE = 20;
const TRIGGERS = [["post-login", "Post login"], ["credentials-exchange", "Credentials exchange"]];
const SAMPLE = `exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim("https://example.com/email", event.user.email);
};
`;

async function render(main, id) {
  if (id) return detail(main, id);
  const list = h("div", {});
  const load = pagedList(list, PER_PAGE, (n) => page("actions/actions", "actions", n, PER_PAGE), (items) =>
    table("Actions", [
      ["Name", (a) => link(a.name, "#/actions/" + encodeURIComponent(a.id))],
      ["Trigger", (a) => (a.supported_triggers || []).map((t) => t.id).join(", ")],
      ["Deployed", (a) => a.all_changes_deployed ? "yes" : "changes not deployed"],
    ], items, "No actions yet."));
  const create = form("Create an action", [
    field("Name", input("name", {required: true})),
    field("Trigger", select("trigger", TRIGGERS, "post-login")),
    field("Code", h("textarea", {name: "code", rows: 8, class: "mono code", spellcheck: "false"}, SAMPLE)),
  ], "Create action", async (data, f) => {
    const a = await api("POST", "actions/actions", {name: data.get("name"), code: data.get("code"),
      supported_triggers: [{id: data.get("trigger"), version: "v3"}]});
    f.reset();
    status("Created " + a.name + ".");
    await load(0);
  });
  for (const [trigger, title] of TRIGGERS) main.append(await bindings(trigger, title));
  main.append(section("All actions", list), section("Create an action", create));
}

// bindings is the ordered list of actions a trigger runs, with up/down/remove and add.
async function bindings(trigger, title) {
  const box = section("Flow: " + title);
  const body = h("div", {});
  box.append(body);
  const draw = async () => {
    const r = await api("GET", "actions/triggers/" + trigger + "/bindings");
    const refs = (r.bindings || []).map((b) => ({ref: {type: "action_id", value: b.action.id}, display_name: b.display_name || b.action.name}));
    const save = async (next) => {
      await api("PATCH", "actions/triggers/" + trigger + "/bindings", {bindings: next});
      status(title + " flow saved.");
      await draw();
    };
    const move = (i, d) => { const n = refs.slice(); [n[i], n[i + d]] = [n[i + d], n[i]]; return save(n); };
    const all = await page("actions/actions", "actions", 0, 100, {triggerId: trigger, deployed: "true"});
    const addSel = select("action", all.items.map((a) => [a.id, a.name]));
    body.replaceChildren(
      refs.length ? h("ol", {class: "flow"}, refs.map((b, i) => h("li", {}, b.display_name, " ",
        button("Up", (ev) => busy(ev.target, () => move(i, -1)), {disabled: i === 0, "aria-label": "Move " + b.display_name + " up"}),
        button("Down", (ev) => busy(ev.target, () => move(i, 1)), {disabled: i === refs.length - 1, "aria-label": "Move " + b.display_name + " down"}),
        button("Remove", (ev) => busy(ev.target, () => save(refs.filter((_, j) => j !== i))), {"aria-label": "Remove " + b.display_name})))) :
        h("p", {class: "empty"}, "No actions run at this trigger."),
      all.items.length ? h("div", {class: "row"}, field("Add deployed action", addSel),
        button("Add to flow", (ev) => busy(ev.target, () => {
          const a = all.items.find((x) => x.id === addSel.value);
          return save([...refs, {ref: {type: "action_id", value: a.id}, display_name: a.name}]);
        }))) : "");
  };
  await draw();
  return box;
}

async function detail(main, id) {
  const enc = encodeURIComponent(id);
  const a = await api("GET", "actions/actions/" + enc);
  main.querySelector("h1").textContent = "Action: " + a.name;
  const errs = h("p", {class: "status error", role: "alert", hidden: true, id: "code-errors"});
  const code = h("textarea", {name: "code", rows: 18, class: "mono code", spellcheck: "false"}, a.code || "");
  // A failed save shows the server's compile error (line and column) beside the editor.
  const guard = async (fn) => {
    errs.hidden = true;
    try {
      await fn();
    } catch (e) {
      errs.textContent = e.message;
      errs.hidden = false;
    }
  };
  const f = form("Edit the action", [field("Code", code)], "Save", () => guard(async () => {
    await api("PATCH", "actions/actions/" + enc, {code: code.value});
    status("Saved (not deployed yet).");
  }));
  const deploy = button("Deploy", (ev) => busy(ev.target, () => guard(async () => {
    await api("PATCH", "actions/actions/" + enc, {code: code.value});
    await api("POST", "actions/actions/" + enc + "/deploy");
    status("Deployed: bind it to a flow on the Actions page to run it.");
  })));
  main.append(section("Code", errs, f, deploy), testPanel(enc, code, guard));
}

// SAMPLE_EVENT is the post-login event the Test form starts with (Auth0's event shape).
const SAMPLE_EVENT = {
  user: {user_id: "auth0|5f7c8ec7c33c6c004bbafe82", email: "jane@example.com", email_verified: true,
    name: "Jane Doe", app_metadata: {}, user_metadata: {}},
  client: {client_id: "sample-client", name: "Sample application"},
  connection: {name: "Username-Password-Authentication", strategy: "auth0"},
  request: {ip: "192.0.2.1", hostname: "localhost", method: "POST", user_agent: "sample"},
  transaction: {protocol: "oauth2-password", requested_scopes: ["openid", "profile"]},
  secrets: {},
};

// testPanel saves the editor's code as the draft, then runs it against the event in the
// form; the result (what the login would get) is shown as JSON.
function testPanel(enc, code, guard) {
  const event = h("textarea", {name: "event", rows: 12, class: "mono code", spellcheck: "false"}, JSON.stringify(SAMPLE_EVENT, null, 2));
  const out = h("pre", {id: "test-result", "aria-live": "polite", hidden: true});
  const f = form("Test the action", [field("Event", event, "A post-login event as JSON; the draft is saved, then run against it.")], "Test", () => guard(async () => {
    let payload;
    try {
      payload = JSON.parse(event.value);
    } catch (e) {
      throw new Error("The event is not JSON: " + e.message);
    }
    await api("PATCH", "actions/actions/" + enc, {code: code.value});
    const r = await api("POST", "actions/actions/" + enc + "/test", {payload});
    out.textContent = JSON.stringify(r.payload, null, 2);
    out.hidden = false;
    status("Tested: " + r.payload.result + ".");
  }));
  return section("Test", f, out);
}

export default {title: "Actions", render};
