// Overview: logins, failed logins, blocked accounts and throttled IPs per hour over the last
// 12 hours, counted by the Management API's log search (include_totals, one event per page:
// the server counts, the page never downloads the log), drawn as an SVG bar chart.
import {api, page} from "../api.js";
import {h, section, table} from "../ui.js";

const HOURS = 12;
export const SERIES = [
  {key: "logins", label: "Logins", q: "type:sepft"},
  {key: "failures", label: "Failed logins", q: "type:fepft"},
  {key: "blocked", label: "Blocked accounts", q: "type:limit_wc OR type:limit_sul"},
  {key: "throttled", label: "Throttled IPs", q: "type:limit_mu"},
];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

// count asks the server how many events match q in [from, to).
async function count(q, from, to) {
  const range = `date:[${from.toISOString()} TO ${new Date(to.getTime() - 1).toISOString()}]`;
  const r = await page("logs", "logs", 0, 1, {q: `(${q}) AND ${range}`});
  return r.total;
}

// limited runs the tasks at most n at a time (the API has a per-caller rate limit).
async function limited(tasks, n) {
  const out = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({length: n}, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  }));
  return out;
}

// chart draws grouped bars: one group per hour, one bar per series, with a text alternative.
function chart(hours, data) {
  const w = 720, hgt = 220, pad = 30, groupW = (w - pad) / hours.length;
  const max = Math.max(1, ...SERIES.flatMap((s) => data[s.key]));
  const barW = Math.max(2, (groupW - 6) / SERIES.length);
  const g = svg("svg", {viewBox: `0 0 ${w} ${hgt + 24}`, role: "img", class: "chart",
    "aria-label": "Events per hour over the last " + hours.length + " hours"});
  g.append(svg("line", {x1: pad, y1: hgt, x2: w, y2: hgt, class: "axis"}));
  const top = svg("text", {x: 0, y: 12, class: "tick"});
  top.textContent = String(max);
  g.append(top);
  hours.forEach((t, i) => {
    SERIES.forEach((s, j) => {
      const v = data[s.key][i];
      const bh = Math.round((v / max) * (hgt - 20));
      const bar = svg("rect", {x: pad + i * groupW + j * barW + 3, y: hgt - bh, width: barW - 1, height: bh, class: "bar " + s.key});
      const tip = svg("title", {});
      tip.textContent = `${s.label} ${t.getHours()}:00: ${v}`;
      bar.append(tip);
      g.append(bar);
    });
    if (i % 2 === 0) {
      const lbl = svg("text", {x: pad + i * groupW + 2, y: hgt + 16, class: "tick"});
      lbl.textContent = String(t.getHours()).padStart(2, "0") + ":00";
      g.append(lbl);
    }
  });
  return g;
}

async function render(main) {
  const now = new Date();
  const start = new Date(now);
  start.setMinutes(0, 0, 0);
  const hours = Array.from({length: HOURS}, (_, i) => new Date(start.getTime() - (HOURS - 1 - i) * 3600e3));
  const box = h("div", {}, h("p", {}, "Counting…"));
  main.append(section("Last " + HOURS + " hours", box));
  const tasks = [];
  for (const s of SERIES) {
    for (const t of hours) tasks.push(() => count(s.q, t, new Date(t.getTime() + 3600e3)));
  }
  const counts = await limited(tasks, 4);
  const data = {};
  SERIES.forEach((s, j) => { data[s.key] = counts.slice(j * HOURS, (j + 1) * HOURS); });
  const legend = h("ul", {class: "legend"}, SERIES.map((s) =>
    h("li", {}, h("span", {class: "swatch " + s.key, "aria-hidden": "true"}), `${s.label}: ${data[s.key].reduce((a, b) => a + b, 0)}`)));
  box.replaceChildren(legend, chart(hours, data),
    h("details", {}, h("summary", {}, "The numbers"), table("Events per hour", [
      ["Hour", (i) => hours[i].toLocaleString()], ...SERIES.map((s) => [s.label, (i) => String(data[s.key][i])]),
    ], hours.map((_, i) => i))));
  const [keys, blocked, users] = await Promise.all([api("GET", "keys/signing"),
    page("users", "users", 0, 1, {q: "blocked:true", search_engine: "v3"}), page("users", "users", 0, 1)]);
  const cur = keys.find((k) => k.current && (k.alg || "RS256") === "RS256");
  main.append(section("Tenant", h("dl", {class: "facts"},
    h("dt", {}, "Users"), h("dd", {}, String(users.total)),
    h("dt", {}, "Blocked users"), h("dd", {}, h("a", {href: "#/users"}, String(blocked.total))),
    h("dt", {}, "Signing key (RS256)"), h("dd", {}, cur ? h("code", {}, cur.kid) : "—"))));
}

export default {title: "Overview", render};
