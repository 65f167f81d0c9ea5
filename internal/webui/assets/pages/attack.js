// Attack protection: brute force, suspicious IP throttling and breached passwords, each
// edited as a form built from the settings the Management API returns.
import {api} from "../api.js";
import {h, field, input, form, section, status, lines} from "../ui.js";

const SECTIONS = [
  ["brute-force-protection", "Brute-force protection"],
  ["suspicious-ip-throttling", "Suspicious IP throttling"],
  ["breached-password-detection", "Breached password detection"],
];

// controls builds one labelled control per setting: booleans as checkboxes, numbers as
// number inputs, lists as one-per-line text, objects as JSON.
function controls(obj, prefix) {
  return Object.entries(obj).map(([k, v]) => {
    const name = prefix + k;
    const label = k.replace(/_/g, " ");
    if (typeof v === "boolean") return field(label, h("input", {type: "checkbox", name, checked: v}));
    if (typeof v === "number") return field(label, input(name, {type: "number", value: v}));
    if (Array.isArray(v)) return field(label, h("textarea", {name, rows: 2}, v.join("\n")), "One per line.");
    if (v && typeof v === "object") return h("fieldset", {}, h("legend", {}, label), controls(v, name + "."));
    return field(label, input(name, {value: v ?? ""}));
  });
}

function collect(obj, data, prefix) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix + k;
    if (typeof v === "boolean") out[k] = data.get(name) === "on";
    else if (typeof v === "number") out[k] = Number(data.get(name));
    else if (Array.isArray(v)) out[k] = lines(data.get(name));
    else if (v && typeof v === "object") out[k] = collect(v, data, name + ".");
    else out[k] = data.get(name);
  }
  return out;
}

async function render(main) {
  for (const [path, title] of SECTIONS) {
    const cur = await api("GET", "attack-protection/" + path);
    main.append(section(title, form(title, controls(cur, ""), "Save", async (data) => {
      await api("PATCH", "attack-protection/" + path, collect(cur, data, ""));
      status(title + " saved.");
    })));
  }
}

export default {title: "Attack protection", render};
