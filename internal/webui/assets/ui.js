// ui.js: small DOM helpers shared by the pages. Everything is built with createElement and
// textContent (never markup from strings), so that no value from the server is ever parsed as markup.

let uid = 0;

// h builds an element: h("button", {class: "x", onclick: fn}, "text", child...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") {
      el.value = v;
      if (el instanceof HTMLInputElement) el.defaultValue = v; // reset() keeps it
    }
    else if (k === "checked") el.checked = el.defaultChecked = !!v; // reset() keeps it
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// field is a labelled control: the label names the input for screen readers and clicks.
export function field(label, control, hint) {
  const id = control.id || ("f" + (++uid));
  control.id = id;
  const hintEl = hint ? h("small", {class: "hint", id: id + "-hint"}, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  if (control.type === "checkbox") {
    return h("div", {class: "field check"}, control, h("label", {for: id}, label), hintEl);
  }
  return h("div", {class: "field"}, h("label", {for: id}, label), control, hintEl);
}

export function input(name, attrs) {
  return h("input", {name, type: "text", autocomplete: "off", ...attrs});
}

export function select(name, options, value) {
  return h("select", {name}, options.map((o) => {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    const opt = h("option", {value: v}, text);
    if (v === value) opt.selected = true;
    return opt;
  }));
}

export function button(text, onclick, attrs) {
  return h("button", {type: "button", onclick, ...attrs}, text);
}

// busy runs an async action from a button: the button is disabled meanwhile, and an error is
// shown in the page's status area instead of thrown.
export async function busy(btn, fn) {
  if (btn) btn.disabled = true;
  try {
    return await fn();
  } catch (e) {
    showError(e);
  } finally {
    if (btn) btn.disabled = false;
  }
}

// status shows a message in the live region (screen readers announce it).
export function status(text, kind) {
  const el = document.getElementById("status");
  if (!el) return;
  el.className = "status " + (kind || "ok");
  el.textContent = text;
}

export function showError(e) {
  status((e && e.message) || String(e), "error");
}

// table renders rows as a table with a caption; cols are [header, row => cell].
export function table(caption, cols, rows, empty) {
  if (!rows.length) return h("p", {class: "empty"}, empty || "Nothing here yet.");
  return h("div", {class: "table-wrap"}, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, cols.map(([title]) => h("th", {scope: "col"}, title)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, cols.map(([, cell]) => h("td", {}, cell(r))))))));
}

// pager is the previous/next control of an offset-paged list; load(pageNo) redraws.
export function pager(pageNo, perPage, total, load) {
  const last = Math.max(0, Math.ceil(total / perPage) - 1);
  const from = total === 0 ? 0 : pageNo * perPage + 1;
  const to = Math.min(total, (pageNo + 1) * perPage);
  return h("nav", {class: "pager", "aria-label": "Pages"},
    button("‹ Previous", () => load(pageNo - 1), {disabled: pageNo <= 0}),
    h("span", {"aria-live": "polite"}, `${from}–${to} of ${total}`),
    button("Next ›", () => load(pageNo + 1), {disabled: pageNo >= last}));
}

// pagedList shows a server-paged list in container: fetch(pageNo) returns {items, total}.
export function pagedList(container, perPage, fetchPage, render) {
  const load = async (pageNo) => {
    try {
      const {items, total} = await fetchPage(pageNo);
      container.replaceChildren(render(items), pager(pageNo, perPage, total, load));
    } catch (e) {
      showError(e);
    }
  };
  load(0);
  return load;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

export function link(text, hash) {
  return h("a", {href: hash}, text);
}

// section is a titled part of a page.
export function section(title, ...children) {
  return h("section", {class: "card"}, h("h2", {}, title), ...children);
}

// form builds a <form> whose submit runs onsubmit(FormData) with the submit button busy.
export function form(label, children, submitText, onsubmit) {
  const submit = h("button", {type: "submit"}, submitText);
  const f = h("form", {"aria-label": label}, children, h("div", {class: "actions"}, submit));
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy(submit, () => onsubmit(new FormData(f), f));
  });
  return f;
}

// lines splits a textarea's value into its non-empty lines (or comma-separated values).
export function lines(s) {
  return String(s || "").split(/[\n,]/).map((x) => x.trim()).filter(Boolean);
}

// copy puts text on the clipboard, and says so.
export async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    status(what + " copied to the clipboard");
  } catch {
    status("Select the text and copy it (the browser refused the clipboard)", "error");
  }
}
