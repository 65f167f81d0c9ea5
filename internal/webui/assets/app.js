// app.js: the console's shell. It loads the settings, signs the administrator in with the
// password-realm grant (and MFA when the policy asks), then routes #/page/id to a page module.
import {loadConfig, config, tokenRequest, mfaRequest, setToken, signedIn, claims, ApiError} from "./api.js";
import {h, field, input, select, form, showError} from "./ui.js";
import overview from "./pages/overview.js";
import applications from "./pages/applications.js";
import apis from "./pages/apis.js";
import connections from "./pages/connections.js";
import "./pages/connection-ldap.js"; // registers the ad/ldap "Test connection" panel
import "./pages/connection-strategies.js"; // custom database and passwordless panels
import users from "./pages/users.js";
import actions from "./pages/actions.js";
import attack from "./pages/attack.js";
import mfa from "./pages/mfa.js";
import logs from "./pages/logs.js";
import keys from "./pages/keys.js";

const pages = [
  ["overview", overview], ["applications", applications], ["apis", apis], ["connections", connections],
  ["users", users], ["actions", actions], ["attack-protection", attack], ["mfa", mfa], ["logs", logs],
  ["keys", keys],
];

const GRANT_REALM = "http://auth0.com/oauth/grant-type/password-realm";
const app = document.getElementById("app");
let who = "";
let expiryTimer = 0;
// stop is the current page's clean-up (the logs page's live tail), run on navigation.
let stop = null;

async function main() {
  try {
    await loadConfig();
  } catch (e) {
    app.replaceChildren(h("p", {class: "status error", role: "alert"}, e.message));
    return;
  }
  window.addEventListener("hashchange", route);
  signInPage();
}

// signInPage is the sign-in form: username, password and the connection to check them in.
function signInPage(notice) {
  const cfg = config();
  const msg = h("p", {id: "signin-error", class: "status error", role: "alert", hidden: !notice}, notice || "");
  const realms = cfg.realms.length ? cfg.realms : [""];
  const f = form("Sign in", [
    field("Email or username", input("username", {autocomplete: "username", required: true, autofocus: true})),
    field("Password", input("password", {type: "password", autocomplete: "current-password", required: true})),
    field("Connection", select("realm", realms, realms[0])),
  ], "Sign in", async (data) => {
    msg.hidden = true;
    const params = {
      grant_type: GRANT_REALM, client_id: cfg.client_id, username: data.get("username"),
      password: data.get("password"), realm: data.get("realm"), audience: cfg.audience, scope: "openid",
    };
    try {
      await finish(await tokenRequest(params), data.get("username"));
    } catch (e) {
      if (e instanceof ApiError && e.body.error === "mfa_required") {
        mfaPage(e.body.mfa_token, data.get("username"));
        return;
      }
      msg.textContent = e.message;
      msg.hidden = false;
    }
  });
  app.replaceChildren(h("main", {id: "main", class: "signin"},
    h("h1", {}, "Sesame console"), h("p", {}, "Sign in with an account that may manage this server."), msg, f));
  f.elements.username.focus();
}

// mfaPage finishes a login the MFA policy interrupted. An administrator without an active
// authenticator enrols an authenticator app first (enrollPage); one with an authenticator
// gives a one-time code, a code sent by email or SMS (oob), or a recovery code.
async function mfaPage(mfaToken, username) {
  let active = [];
  try {
    active = (await mfaRequest("authenticators", mfaToken)).filter((a) => a.active);
  } catch (e) {
    signInPage(e.message);
    return;
  }
  if (!active.length) {
    enrollPage(mfaToken, username);
    return;
  }
  const cfg = config();
  const msg = h("p", {id: "mfa-error", class: "status error", role: "alert", hidden: true});
  let oobCode = "";
  const kinds = [];
  if (active.some((a) => a.authenticator_type === "otp")) kinds.push(["otp", "Authenticator app code"]);
  if (active.some((a) => a.authenticator_type === "oob")) kinds.push(["oob", "Code sent to me (email or SMS)"]);
  kinds.push(["recovery", "Recovery code"]);
  const kind = select("kind", kinds, kinds[0][0]);
  const f = form("Multi-factor authentication", [
    field("Method", kind),
    field("Code", input("code", {autocomplete: "one-time-code", required: true})),
  ], "Verify", async (data) => {
    msg.hidden = true;
    const base = {client_id: cfg.client_id, mfa_token: mfaToken};
    let params;
    switch (data.get("kind")) {
    case "otp": params = {...base, grant_type: "http://auth0.com/oauth/grant-type/mfa-otp", otp: data.get("code")}; break;
    case "recovery": params = {...base, grant_type: "http://auth0.com/oauth/grant-type/mfa-recovery-code", recovery_code: data.get("code")}; break;
    default: params = {...base, grant_type: "http://auth0.com/oauth/grant-type/mfa-oob", oob_code: oobCode, binding_code: data.get("code")};
    }
    try {
      const tok = await tokenRequest(params);
      if (tok.recovery_code) {
        // A used recovery code is replaced: show the new one before going on.
        recoveryPage(tok, username);
        return;
      }
      await finish(tok, username);
    } catch (e) {
      msg.textContent = e.message;
      msg.hidden = false;
    }
  });
  const sendOOB = async () => {
    if (kind.value !== "oob" || oobCode) return;
    try {
      const ch = await mfaRequest("challenge", mfaToken, {client_id: cfg.client_id, mfa_token: mfaToken, challenge_type: "oob"});
      oobCode = ch.oob_code;
      msg.hidden = true;
    } catch (e) {
      msg.textContent = e.message;
      msg.hidden = false;
    }
  };
  kind.addEventListener("change", sendOOB);
  app.replaceChildren(h("main", {id: "main", class: "signin"}, h("h1", {}, "Verify it's you"), msg, f, backLink()));
  f.elements.code.focus();
  sendOOB();
}

// enrollPage enrols an authenticator app (TOTP) for an administrator the MFA policy asks for
// a second factor: the key to type into the app, the otpauth URI, the recovery code to keep,
// then the first code, which confirms the enrolment and finishes the login.
async function enrollPage(mfaToken, username) {
  const cfg = config();
  const msg = h("p", {id: "mfa-error", class: "status error", role: "alert", hidden: true});
  let en;
  try {
    en = await mfaRequest("associate", mfaToken, {client_id: cfg.client_id, authenticator_types: ["otp"]});
  } catch (e) {
    signInPage("MFA is required, and enrolling an authenticator app failed: " + e.message);
    return;
  }
  const f = form("Confirm the authenticator", [
    field("Code from the app", input("code", {autocomplete: "one-time-code", required: true, inputmode: "numeric"})),
  ], "Verify", async (data) => {
    msg.hidden = true;
    try {
      await finish(await tokenRequest({client_id: cfg.client_id, mfa_token: mfaToken,
        grant_type: "http://auth0.com/oauth/grant-type/mfa-otp", otp: data.get("code")}), username);
    } catch (e) {
      msg.textContent = e.message;
      msg.hidden = false;
    }
  });
  app.replaceChildren(h("main", {id: "main", class: "signin"}, h("h1", {}, "Set up an authenticator app"),
    h("p", {}, "Sign-in to this server needs a second factor. Add this key to your authenticator app:"),
    h("output", {class: "mono secret", id: "otp-secret"}, en.secret),
    en.barcode_uri ? h("p", {}, "or the URI: ", h("code", {class: "wrap", id: "otp-uri"}, en.barcode_uri)) : "",
    (en.recovery_codes || []).length ? h("p", {}, "Keep this recovery code somewhere safe; it signs you in once without the app: ",
      h("output", {class: "mono", id: "recovery-code"}, en.recovery_codes[0])) : "",
    msg, f, backLink()));
  f.elements.code.focus();
}

// recoveryPage shows the recovery code that replaces one just used, then goes on.
function recoveryPage(tok, username) {
  app.replaceChildren(h("main", {id: "main", class: "signin"}, h("h1", {}, "Your new recovery code"),
    h("p", {}, "The recovery code you used is spent. Keep this one instead:"),
    h("output", {class: "mono secret", id: "recovery-code"}, tok.recovery_code),
    h("div", {class: "actions"}, h("button", {type: "button", onclick: () => finish(tok, username)}, "Continue"))));
}

function backLink() {
  return h("p", {}, h("a", {href: "#", onclick: (ev) => { ev.preventDefault(); signInPage(); }}, "Back to sign-in"));
}

// finish keeps the access token in memory if it carries management permissions; an account
// without any is refused here, before any page is shown (the API would refuse every call).
async function finish(tok, username) {
  const c = claims(tok.access_token);
  const scopes = String(c.scope || "").split(" ").filter((s) => s.includes(":"));
  if (!scopes.length) {
    signInPage("This account has no permission to manage Sesame. Ask an administrator to run: sesame users grant-admin " + username);
    return;
  }
  who = username;
  setToken(tok.access_token, (why) => signOut("Signed out: " + why));
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => signOut("Your session ended; sign in again."), (tok.expires_in || 3600) * 1000);
  if (!location.hash || location.hash === "#") location.hash = "#/overview";
  else route();
}

function signOut(notice) {
  setToken(null);
  clearTimeout(expiryTimer);
  if (stop) stop();
  stop = null;
  signInPage(notice);
}

function shell(active) {
  const nav = h("nav", {class: "side", "aria-label": "Console"}, h("ul", {}, pages.map(([slug, p]) =>
    h("li", {}, h("a", {href: "#/" + slug, "aria-current": slug === active ? "page" : false}, p.title)))));
  const mainEl = h("main", {id: "main", tabindex: "-1"});
  app.replaceChildren(
    h("header", {class: "top"}, h("a", {class: "brand", href: "#/overview"}, "Sesame"),
      h("span", {class: "who"}, who), h("button", {type: "button", onclick: () => signOut("Signed out.")}, "Sign out")),
    h("div", {class: "layout"}, nav, mainEl));
  return mainEl;
}

// route draws the page the hash names: #/slug or #/slug/id.
async function route() {
  if (!signedIn()) return;
  if (stop) stop();
  stop = null;
  const [slug, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const found = pages.find(([s]) => s === slug) || pages[0];
  const mainEl = shell(found[0]);
  const id = rest.length ? decodeURIComponent(rest.join("/")) : "";
  mainEl.append(h("h1", {}, found[1].title), h("p", {id: "status", class: "status", role: "status", "aria-live": "polite"}));
  // Keyboard and screen-reader users land on the new page, not on the link they followed.
  mainEl.focus();
  try {
    stop = (await found[1].render(mainEl, id)) || null;
  } catch (e) {
    showError(e);
  }
}

main();
