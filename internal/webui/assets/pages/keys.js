// Signing keys: every key with its state; rotate (next becomes current) and revoke.
import {api} from "../api.js";
import {h, table, section, button, busy, status, when} from "../ui.js";

function state(k) {
  if (k.revoked) return "revoked";
  if (k.current) return "current";
  if (k.next) return "next";
  return "previous";
}

async function render(main) {
  const list = h("div", {});
  const load = async () => {
    const ks = await api("GET", "keys/signing");
    list.replaceChildren(table("Signing keys", [
      ["Key ID", (k) => h("code", {}, k.kid)],
      ["Algorithm", (k) => k.alg || "RS256"],
      ["State", (k) => h("span", {class: "badge " + state(k)}, state(k))],
      ["Current since", (k) => when(k.current_since)],
      ["Thumbprint", (k) => h("code", {class: "wrap"}, k.thumbprint)],
      ["", (k) => k.previous && !k.revoked ? button("Revoke", (ev) => busy(ev.target, async () => {
        if (!confirm("Revoke " + k.kid + "? Tokens it signed stop validating, your console session's too if it was one of them.")) return;
        await api("PUT", "keys/signing/" + encodeURIComponent(k.kid) + "/revoke");
        status("Revoked " + k.kid + ".");
        await load();
      }), {"aria-label": "Revoke " + k.kid}) : ""],
    ], ks, "No keys."));
  };
  const rotate = button("Rotate signing key", (ev) => busy(ev.target, async () => {
    if (!confirm("Rotate? The next key becomes current; the current one keeps validating until revoked.")) return;
    const r = await api("POST", "keys/signing/rotate");
    status("Rotated: " + r.kid + " now signs new tokens.");
    await load();
  }));
  main.append(section("Rotate", h("p", {}, "New tokens are signed with the next key; tokens already issued keep validating with the previous one until you revoke it."), rotate),
    section("Keys", list));
  await load();
}

export default {title: "Signing keys", render};
