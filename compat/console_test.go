package compat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// screenshotsEnv, when set to 1, makes TestConsole (re)write the console's screenshots in
// docs/console/ (the README shows them). Without it no file is written.
const screenshotsEnv = "SESAME_CONSOLE_SCREENSHOTS"

// cspProbe runs before the console's own scripts on every page load and records each
// Content-Security-Policy violation, so that the test fails on an inline script or style or
// a third-party asset the page tried to use. It also answers yes to the console's "are you
// sure?" questions (window.confirm), as the administrator would.
const cspProbe = `window.__csp = []; window.confirm = () => true;
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// unlabelledControls lists the page's form controls that have no accessible name.
const unlabelledControls = `[...document.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !(el.tagName === "BUTTON" && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 120))`

// TestConsole drives the web console in headless chromium against its own `sesame serve`:
// wrong passwords show Auth0's error text, a user without management permissions is refused,
// and an administrator (made with `sesame users grant-admin`) creates an application and a
// user, sees that user's login (made with plain HTTP requests) in the logs page, blocks the
// user and sees the next login fail, and rotates the signing key that tokens are signed with.
func TestConsole(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("chromium is not installed (CI installs Debian's chromium: apt-get install chromium); skipping the console test")
	}
	// Its own server: the test creates clients and users and rotates keys, which the tests on
	// the shared server must not see.
	s, err := startServer()
	if s != nil {
		t.Cleanup(s.stop)
	}
	if err != nil {
		t.Fatalf("starting sesame: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	const adminEmail, adminPassword = "root@example.com", "Admin Password 1 is long"
	create := s.command(ctx, "users", "create", "--connection", realm, "--email", adminEmail, "--password-stdin")
	create.Stdin = strings.NewReader(adminPassword + "\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("sesame users create: %v\n%s", err, out)
	}
	if out, err := s.command(ctx, "users", "grant-admin", adminEmail).CombinedOutput(); err != nil {
		t.Fatalf("sesame users grant-admin: %v\n%s", err, out)
	}

	tab := startChromium(t, ctx, s)
	shoot := shooter(t, tab)
	// shots checks that every control of the page has a name a screen reader reads (a label,
	// aria-label, or a button's text), then takes the page's screenshot when asked to.
	shots := func(name string, at ...string) {
		t.Helper()
		unlabelled, err := chromedp.Run(tab, chromedp.Evaluate[[]string](unlabelledControls))
		if err != nil {
			t.Fatalf("reading the controls of %s: %v", name, err)
		}
		if len(unlabelled) > 0 {
			t.Errorf("page %s has controls without a label: %v", name, unlabelled)
		}
		shoot(name, at...)
	}
	consoleURL := s.issuer + "console/"
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, actions...); err != nil {
			t.Fatalf("%s: %v\n--- server ---\n%s", what, err, s.logs.String())
		}
	}
	signIn := func(user, pw string) {
		t.Helper()
		run("signing in as "+user,
			chromedp.Navigate(consoleURL),
			chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Sign in"] input[name=username]`)),
			chromedp.SetValue(chromedp.CSS(`input[name=username]`), user),
			chromedp.SetValue(chromedp.CSS(`input[name=password]`), pw),
			chromedp.Click(chromedp.CSS(`form[aria-label="Sign in"] button[type=submit]`)))
	}

	// The issuer's root sends a browser to the console.
	run("opening the issuer's root", chromedp.Navigate(s.issuer))
	if loc, err := chromedp.Run(tab, chromedp.Location()); err != nil || loc != consoleURL {
		t.Errorf("the issuer's root led to %q (%v), want %q", loc, err, consoleURL)
	}

	// A wrong password shows Auth0's text; so does an unknown user (the same words).
	for _, who := range []string{adminEmail, "nobody@example.com"} {
		signIn(who, "not the password")
		if got := waitText(t, tab, "#signin-error", wrongDesc); got != wrongDesc {
			t.Errorf("sign-in as %s with a wrong password shows %q, want %q", who, got, wrongDesc)
		}
	}
	shots("signin")

	// A user without management permissions gets no further than the sign-in page.
	signIn("alice@example.com", password)
	waitText(t, tab, "#signin-error", "no permission to manage Sesame")
	if n, _ := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("nav.side").length`)); n != 0 {
		t.Errorf("a user without management permissions sees the console's navigation")
	}
	// The page only says what the Management API would: the same token gets nothing there.
	res, err := s.httpClient().PostForm(s.url("/oauth/token"), url.Values{
		"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"}, "client_id": {"sesame-console"},
		"username": {"alice@example.com"}, "password": {password}, "realm": {realm}, "audience": {s.issuer + "api/v2/"}})
	if err != nil {
		t.Fatal(err)
	}
	var aliceTok map[string]any
	_ = json.NewDecoder(res.Body).Decode(&aliceTok)
	res.Body.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/api/v2/users"), nil)
	req.Header.Set("Authorization", fmt.Sprint("Bearer ", aliceTok["access_token"]))
	if res, err := s.httpClient().Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("the Management API answered %d to a user without management permissions, want 403", res.StatusCode)
		}
	}

	// The administrator signs in with the keyboard alone: the form has the focus, Tab moves
	// to the password, Enter submits.
	run("signing in with the keyboard",
		chromedp.Navigate(consoleURL),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Sign in"] input[name=username]`)),
		chromedp.KeyEvent(adminEmail), chromedp.KeyEvent("\t"), chromedp.KeyEvent(adminPassword), chromedp.KeyEvent("\r"))
	waitText(t, tab, "main h1", "Overview")
	// So far: three logins that got tokens (Alice's in the browser, refused by the console
	// afterwards, and over HTTP; the admin's) and two wrong passwords.
	// The tenant log is written off the request path: the page is drawn again until the
	// last events are in.
	for i := 0; ; i++ {
		got := waitText(t, tab, "ul.legend", "Logins:")
		if strings.Contains(got, "Logins: 3") && strings.Contains(got, "Failed logins: 2") {
			break
		}
		if i == 10 {
			t.Fatalf("overview legend %q, want 3 logins and 2 failed logins", got)
		}
		time.Sleep(200 * time.Millisecond)
		run("drawing the overview again", chromedp.Navigate(consoleURL+"#/logs"), chromedp.Navigate(consoleURL+"#/overview"))
	}
	shots("overview")
	run("following a menu link with the keyboard",
		chromedp.Focus(chromedp.Search(`//nav//a[text()="Users"]`)), chromedp.KeyEvent("\r"))
	waitText(t, tab, "main h1", "Users")
	if focused, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "main" {
		t.Errorf("after following a menu link the focus is on #%s, want the page (#main)", focused)
	}

	// Create an application; its secret is shown once.
	const appName = "Console Test App"
	run("creating an application",
		chromedp.Navigate(consoleURL+"#/applications"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Create an application"] input[name=name]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create an application"] input[name=name]`), appName),
		chromedp.Click(chromedp.CSS(`form[aria-label="Create an application"] button[type=submit]`)))
	secret := waitText(t, tab, "#client-secret", "")
	appID := waitText(t, tab, ".secret code", "")
	waitText(t, tab, "table", appName)
	shots("applications")
	run("opening the application", chromedp.Navigate(consoleURL+"#/applications/"+appID))
	curl := waitText(t, tab, "#curl", "client_id="+appID)
	if !strings.Contains(curl, s.issuer+"oauth/token") {
		t.Errorf("the application's curl does not call the token endpoint: %s", curl)
	}
	shots("application")

	// Edit its web origins; rotate its secret (the new one is shown once and the old stops).
	run("adding a web origin",
		chromedp.SetValue(chromedp.CSS(`textarea[name=web_origins]`), "https://app.example.com"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Edit application"] button[type=submit]`)))
	waitText(t, tab, "#status", "Saved.")
	run("rotating the secret", chromedp.Click(chromedp.Search(`//button[text()="Rotate secret"]`)))
	rotated := waitText(t, tab, "#client-secret", "")
	if rotated == secret {
		t.Fatalf("rotation showed the same secret")
	}
	run("leaving the application", chromedp.Navigate(consoleURL+"#/applications"))
	waitText(t, tab, "main h1", "Applications")
	run("reloading the application", chromedp.Navigate(consoleURL+"#/applications/"+appID))
	if got := waitText(t, tab, "#curl", appID); got == "" {
		t.Fatal("the application page did not come back")
	}
	if origins, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`textarea[name=web_origins]`))); err != nil || origins != "https://app.example.com" {
		t.Errorf("web origins after saving: %q (%v)", origins, err)
	}
	oldSecret := secret
	secret = rotated

	// Let it use the database connection (connections page, one switch per application).
	run("opening the connections", chromedp.Navigate(consoleURL+"#/connections"))
	waitText(t, tab, "table", realm)
	shots("connections")
	run("opening the connection",
		chromedp.Click(chromedp.Search(`//a[text()="`+realm+`"]`)))
	waitText(t, tab, "fieldset", appName)
	run("enabling the application",
		chromedp.Click(chromedp.Search(`//label[text()="`+appName+`"]/preceding-sibling::input`)))
	waitText(t, tab, "#status", "Enabled "+appName)
	shots("connection")

	// An ad connection's page has the "Test connection" panel: a login against a real slapd
	// answered step by step, and a wrong password explained.
	if !slapdInstalled() {
		t.Log("skipping the console's LDAP test-connection panel: install slapd and ldap-utils (apt-get install slapd ldap-utils), as .ci/run does")
	} else {
		createLDAPConnection(t, s, startSlapd(t), "console-ldap")
		run("opening the ad connection",
			chromedp.Navigate(consoleURL+"#/connections"),
			chromedp.Click(chromedp.Search(`//a[text()="console-ldap"]`)))
		waitText(t, tab, "main h1", "Connection: console-ldap")
		testLogin := func(what, password string) {
			run(what,
				chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Test connection"] input[name=username]`)),
				chromedp.SetValue(chromedp.CSS(`form[aria-label="Test connection"] input[name=username]`), ldapUser),
				chromedp.SetValue(chromedp.CSS(`form[aria-label="Test connection"] input[name=password]`), password),
				chromedp.Click(chromedp.CSS(`form[aria-label="Test connection"] button[type=submit]`)))
		}
		testLogin("testing the ad connection", ldapUserPass)
		if got := waitText(t, tab, "#ldap-test-verdict", "Login succeeded: ad|console-ldap|"); !strings.Contains(got, "engineering") {
			t.Errorf("the test verdict %q lacks the user's group", got)
		}
		waitText(t, tab, "#ldap-test-result table", "user bind")
		shots("connection-ldap-test", `#ldap-test-result`)
		testLogin("testing the ad connection with a wrong password", "not Lena's password")
		waitText(t, tab, "#ldap-test-verdict", "Login refused: wrong password")
	}

	// A custom database's page shows its scripts read-only and switches import_mode (the
	// sealed configuration survives the change); a passwordless connection's page changes
	// the code length.
	loginJS := filepath.Join(t.TempDir(), "login.js")
	const loginScript = "function login(email, password, callback) {\n  callback(new WrongUsernameOrPasswordError(email));\n}\n"
	if err := os.WriteFile(loginJS, []byte(loginScript), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"connections", "create", "--name", "legacy-db", "--strategy", "auth0", "--custom-script", "login=" + loginJS,
			"--configuration", "DB_PASSWORD=legacy-secret"},
		{"connections", "create", "--name", "email-codes", "--strategy", "email", "--options", `{"totp":{"length":6,"time_step":300}}`},
	} {
		if out, err := s.command(ctx, args...).CombinedOutput(); err != nil {
			t.Fatalf("sesame %v: %v\n%s", args, err, out)
		}
	}
	openConnection := func(name string) {
		t.Helper()
		run("opening "+name, chromedp.Navigate(consoleURL+"#/overview"), chromedp.Navigate(consoleURL+"#/connections"),
			chromedp.Click(chromedp.Search(`//a[text()="`+name+`"]`)))
		waitText(t, tab, "main h1", "Connection: "+name)
	}
	openConnection("legacy-db")
	if got := waitText(t, tab, `pre[data-script="login"]`, "function login"); !strings.Contains(got, "WrongUsernameOrPasswordError") {
		t.Errorf("the login script shows as %q", got)
	}
	waitText(t, tab, "#customdb-facts", "DB_PASSWORD")
	run("switching import mode on", chromedp.Click(chromedp.CSS(`input[name=import_mode]`)))
	waitText(t, tab, "#status", "Import users to Sesame on for legacy-db.")
	shots("connection-custom-db", `#customdb-facts`)
	openConnection("legacy-db")
	waitText(t, tab, `pre[data-script="login"]`, "function login")
	if on, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector("input[name=import_mode]").checked`)); err != nil || !on {
		t.Errorf("import_mode after reloading: %v (%v), want on", on, err)
	}
	var shown []struct {
		Name    string         `json:"name"`
		Options map[string]any `json:"options"`
	}
	out, err := s.command(ctx, "connections", "list", "--json").Output()
	if err != nil || json.Unmarshal(out, &shown) != nil {
		t.Fatalf("connections list: %v %s", err, out)
	}
	for _, c := range shown {
		if c.Name == "legacy-db" && (c.Options["import_mode"] != true || c.Options["configuration"] == nil) {
			t.Errorf("legacy-db options after the switch: %v, want import_mode and the configuration kept", c.Options)
		}
	}

	openConnection("email-codes")
	run("changing the code length",
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Passwordless options"] input[name=length]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Passwordless options"] input[name=length]`), "8"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Passwordless options"] button[type=submit]`)))
	waitText(t, tab, "#status", "Passwordless options saved.")
	shots("connection-passwordless", `form[aria-label="Passwordless options"]`)
	openConnection("email-codes")
	if got, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`form[aria-label="Passwordless options"] input[name=length]`))); err != nil || got != "8" {
		t.Errorf("code length after reloading: %q (%v), want 8", got, err)
	}

	// Create a user.
	const userEmail, userPassword = "rita@example.com", "Rita's password 42 long"
	run("creating a user",
		chromedp.Navigate(consoleURL+"#/users"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Create a user"] input[name=email]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create a user"] input[name=connection]`), realm),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create a user"] input[name=email]`), userEmail),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create a user"] input[name=password]`), userPassword),
		chromedp.Click(chromedp.CSS(`form[aria-label="Create a user"] button[type=submit]`)))
	waitText(t, tab, "#status", "Created "+userEmail)
	waitText(t, tab, "table", userEmail)
	shots("users")

	// The user logs in through the new application, with plain HTTP requests.
	login := func() (int, map[string]any) {
		t.Helper()
		res, err := s.httpClient().PostForm(s.url("/oauth/token"), url.Values{
			"grant_type": {"password"}, "client_id": {appID}, "client_secret": {secret},
			"username": {userEmail}, "password": {userPassword}, "audience": {apiID}, "scope": {"openid offline_access"}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	// The logs page's live tail shows the login as it happens.
	run("starting the live tail",
		chromedp.Navigate(consoleURL+"#/logs"),
		chromedp.Click(chromedp.Search(`//button[text()="Start live tail"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[text()="Stop live tail"]`)))
	time.Sleep(500 * time.Millisecond) // the tail's first poll marks where "new" starts
	code, body := login()
	if code != http.StatusOK {
		t.Fatalf("login through the console-made application: %d %v", code, body)
	}
	firstKid := kidOf(t, body["access_token"])
	secret = oldSecret
	if code, body := login(); code != http.StatusUnauthorized || body["error"] != "access_denied" && body["error"] != "invalid_client" {
		t.Errorf("login with the secret from before the rotation: %d %v, want 401", code, body)
	}
	secret = rotated
	waitText(t, tab, "ol.tail", userEmail)
	shots("logs-tail")

	// The login is in the logs page, filtered by the user.
	run("filtering the logs",
		chromedp.Navigate(consoleURL+"#/logs"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Filter logs"] input[name=user]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Filter logs"] input[name=user]`), userEmail),
		chromedp.Click(chromedp.CSS(`form[aria-label="Filter logs"] button[type=submit]`)))
	waitText(t, tab, "table", "(sepft)")
	shots("logs")

	// Block the user from the user's page: the next login fails as Auth0's does.
	run("opening the user",
		chromedp.Navigate(consoleURL+"#/users"),
		chromedp.Click(chromedp.Search(`//a[text()="`+userEmail+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#block-toggle`)))
	waitText(t, tab, "#user-logs", "(sepft)") // the user's own log events
	run("blocking the user", chromedp.Click(chromedp.CSS(`#block-toggle`)))
	waitText(t, tab, "#user-status", "blocked")
	shots("user")
	run("saving metadata",
		chromedp.SetValue(chromedp.CSS(`textarea[name=user_metadata]`), `{"plan": "gold"}`),
		chromedp.Click(chromedp.CSS(`form[aria-label="Metadata"] button[type=submit]`)))
	waitText(t, tab, "#status", "Metadata saved.")
	run("saving metadata that is not JSON",
		chromedp.SetValue(chromedp.CSS(`textarea[name=app_metadata]`), `{plan: gold`),
		chromedp.Click(chromedp.CSS(`form[aria-label="Metadata"] button[type=submit]`)))
	waitText(t, tab, "#status", "Metadata is not valid JSON")
	if got := getUserMetadata(t, s, userEmail); got["plan"] != "gold" {
		t.Errorf("user_metadata after saving from the console: %v", got)
	}
	code, body = login()
	if code != http.StatusUnauthorized || body["error"] != "unauthorized" || body["error_description"] != "user is blocked" {
		t.Errorf("login of the blocked user: %d %v, want 401 unauthorized \"user is blocked\"", code, body)
	}

	// Rotate the signing key: the next token is signed with the key the page shows as current.
	run("rotating the signing key",
		chromedp.Navigate(consoleURL+"#/keys"),
		chromedp.WaitVisible(chromedp.CSS(`table`)),
		chromedp.Click(chromedp.Search(`//button[text()="Rotate signing key"]`)))
	status := waitText(t, tab, "#status", "Rotated: ")
	newKid := strings.TrimSuffix(strings.TrimPrefix(status, "Rotated: "), " now signs new tokens.")
	if newKid == firstKid || newKid == "" {
		t.Errorf("rotation: the page says %q signs now; tokens were signed with %q before", newKid, firstKid)
	}
	waitText(t, tab, "table", newKid)
	shots("keys")
	unblock := s.command(ctx, "users", "unblock", userEmail)
	if out, err := unblock.CombinedOutput(); err != nil {
		t.Fatalf("sesame users unblock: %v\n%s", err, out)
	}
	if code, body = login(); code != http.StatusOK {
		t.Fatalf("login after unblocking: %d %v", code, body)
	}
	if got := kidOf(t, body["access_token"]); got != newKid {
		t.Errorf("token after rotation signed with %q, want the console's new current key %q", got, newKid)
	}

	// Revoke the key that signed before the rotation: it leaves the JWKS.
	// Revoke the key that signed before the rotation: it leaves the JWKS.
	run("revoking the previous key", chromedp.Click(chromedp.CSS(`button[aria-label="Revoke `+firstKid+`"]`)))
	// The administrator's own console token was signed with that key too: the console says
	// so and asks to sign in again.
	waitText(t, tab, "#signin-error", "Signed out")
	signIn(adminEmail, adminPassword)
	waitText(t, tab, "main h1", "Overview")
	if jwks := getBody(t, s, "/.well-known/jwks.json"); strings.Contains(jwks, firstKid) || !strings.Contains(jwks, newKid) {
		t.Errorf("after revoking %s the JWKS is %s", firstKid, jwks)
	}

	// Revoke the user's refresh tokens one by one from the user's page: the last one issued
	// no longer refreshes.
	refresh, _ := body["refresh_token"].(string)
	if refresh == "" {
		t.Fatalf("no refresh token in %v", body)
	}
	run("opening the user again",
		chromedp.Navigate(consoleURL+"#/users"),
		chromedp.Click(chromedp.Search(`//a[text()="`+userEmail+`"]`)))
	waitText(t, tab, "#user-tokens", appID)
	const revokeButtons = `button[aria-label^="Revoke refresh token"]`
	for range 10 {
		n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(revokeButtons)+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		run("revoking a refresh token", chromedp.Click(chromedp.CSS(revokeButtons)))
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](fmt.Sprintf(`document.querySelectorAll(%s).length < %d`, jsString(revokeButtons), n),
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("the refresh token list did not shrink: %v", err)
		}
	}
	waitText(t, tab, "#user-tokens", "No live refresh tokens.")
	res, err = s.httpClient().PostForm(s.url("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
		"client_id": {appID}, "client_secret": {secret}, "refresh_token": {refresh}})
	if err != nil {
		t.Fatal(err)
	}
	var rb map[string]any
	_ = json.NewDecoder(res.Body).Decode(&rb)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || rb["error"] != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %d %v, want 403 invalid_grant", res.StatusCode, rb)
	}

	// An action that does not compile is refused with the line and column, shown by the editor.
	run("creating an action",
		chromedp.Navigate(consoleURL+"#/actions"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Create an action"] input[name=name]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create an action"] input[name=name]`), "console-claims"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Create an action"] button[type=submit]`)))
	waitText(t, tab, "#status", "Created console-claims")
	run("opening the action", chromedp.Click(chromedp.Search(`//a[text()="console-claims"]`)))
	waitText(t, tab, "main h1", "Action: console-claims")
	run("editing the action",
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Edit the action"] textarea[name=code]`), "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim(\"x\", 1\n};\n"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Edit the action"] button[type=submit]`)))
	if got := waitText(t, tab, "#code-errors", "line 3, column 1"); !strings.Contains(got, "does not compile") {
		t.Errorf("the editor shows %q for code that does not compile", got)
	}
	shots("action")

	// The Test button saves the draft and runs it against the prefilled sample event: the
	// result shows the claim the action sets from the event's email.
	run("testing the action",
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Edit the action"] textarea[name=code]`), "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim(\"https://example.com/email\", event.user.email);\n};\n"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Test the action"] button[type=submit]`)))
	waitText(t, tab, "#status", "Tested: allowed.")
	if got := waitText(t, tab, "#test-result", `"https://example.com/email": "jane@example.com"`); !strings.Contains(got, `"result": "allowed"`) {
		t.Errorf("the test result shows %q, want the claim and result allowed", got)
	}
	shots("action-test", `#test-result`)

	// Search users: a prefix finds Rita alone.
	run("searching users",
		chromedp.Navigate(consoleURL+"#/users"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Search users"] input[name=q]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Search users"] input[name=q]`), "rit"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Search users"] button[type=submit]`)))
	waitText(t, tab, ".pager", "1–1 of 1")
	waitText(t, tab, "table", userEmail)

	// Create an API with two scopes.
	run("creating an API",
		chromedp.Navigate(consoleURL+"#/apis"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Create an API"] input[name=name]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create an API"] input[name=name]`), "Orders"),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create an API"] input[name=identifier]`), "https://orders.example.com"),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Create an API"] textarea[name=scopes]`), "read:orders Read orders\nwrite:orders Change orders"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Create an API"] button[type=submit]`)))
	waitText(t, tab, "#status", "API created.")
	run("opening the API", chromedp.Click(chromedp.Search(`//a[text()="Orders"]`)))
	waitText(t, tab, "main h1", "API: Orders")
	if got, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`textarea[name=scopes]`))); err != nil || got != "read:orders Read orders\nwrite:orders Change orders" {
		t.Errorf("the new API's scopes read back as %q (%v)", got, err)
	}

	// Attack protection: lower brute force's max attempts; the page reads it back.
	run("saving brute-force protection",
		chromedp.Navigate(consoleURL+"#/attack-protection"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Brute-force protection"] input[name=max_attempts]`)),
		chromedp.SetValue(chromedp.CSS(`form[aria-label="Brute-force protection"] input[name=max_attempts]`), "7"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Brute-force protection"] button[type=submit]`)))
	waitText(t, tab, "#status", "Brute-force protection saved.")
	run("leaving attack protection", chromedp.Navigate(consoleURL+"#/overview"))
	waitText(t, tab, "main h1", "Overview")
	run("reloading attack protection", chromedp.Navigate(consoleURL+"#/attack-protection"),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Brute-force protection"] input[name=max_attempts]`)))
	if got, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`form[aria-label="Brute-force protection"] input[name=max_attempts]`))); err != nil || got != "7" {
		t.Errorf("max attempts after saving: %q (%v), want 7", got, err)
	}

	// The other pages load without an error.
	for _, p := range []struct{ slug, want string }{
		{"apis", "Compat API"}, {"actions", "Flow: Post login"}, {"attack-protection", "Brute-force protection"},
		{"mfa", "Factors"},
	} {
		run("opening "+p.slug, chromedp.Navigate(consoleURL+"#/"+p.slug))
		waitText(t, tab, "main", p.want)
		if msg, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("#status").className.includes("error") ? document.querySelector("#status").textContent : ""`)); msg != "" {
			t.Errorf("page %s shows an error: %s", p.slug, msg)
		}
		shots(p.slug)
	}
	if os.Getenv(screenshotsEnv) == "1" {
		run("phone width", chromedp.EmulateViewport(390, 844), chromedp.Navigate(consoleURL+"#/users"))
		waitText(t, tab, "table", userEmail)
		shots("phone-users")
	}

	// With MFA required, the administrator enrols an authenticator app at sign-in, then signs
	// in again with the recovery code the enrolment showed.
	policy := filepath.Join(t.TempDir(), "mfa.yaml")
	if err := os.WriteFile(policy, []byte("guardianPolicies: {policies: [all-applications]}\nguardianFactors:\n  - {name: otp, enabled: true}\n  - {name: recovery-code, enabled: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := s.command(ctx, "apply", "-f", policy).CombinedOutput(); err != nil {
		t.Fatalf("sesame apply: %v\n%s", err, out)
	}
	time.Sleep(2100 * time.Millisecond) // the server's read cache holds tenant settings up to 2 s
	run("signing out", chromedp.EmulateViewport(1280, 800), chromedp.Click(chromedp.Search(`//button[text()="Sign out"]`)))
	signIn(adminEmail, adminPassword)
	otpSecret := waitText(t, tab, "#otp-secret", "")
	recovery := waitText(t, tab, "#recovery-code", "")
	shots("mfa-enroll")
	run("confirming the authenticator",
		chromedp.SetValue(chromedp.CSS(`input[name=code]`), totpCode(t, otpSecret, time.Now())),
		chromedp.Click(chromedp.CSS(`form[aria-label="Confirm the authenticator"] button[type=submit]`)))
	waitText(t, tab, "main h1", "Overview")
	run("signing out", chromedp.Click(chromedp.Search(`//button[text()="Sign out"]`)))
	signIn(adminEmail, adminPassword)
	run("choosing a recovery code",
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Multi-factor authentication"] select[name=kind]`)),
		chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "recovery"),
		chromedp.SetValue(chromedp.CSS(`input[name=code]`), "not a code"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Multi-factor authentication"] button[type=submit]`)))
	waitText(t, tab, "#mfa-error", "")
	run("giving the recovery code",
		chromedp.SetValue(chromedp.CSS(`input[name=code]`), recovery),
		chromedp.Click(chromedp.CSS(`form[aria-label="Multi-factor authentication"] button[type=submit]`)))
	if next := waitText(t, tab, "#recovery-code", ""); next == recovery {
		t.Errorf("the spent recovery code %q was shown again", recovery)
	}
	run("continuing", chromedp.Click(chromedp.Search(`//button[text()="Continue"]`)))
	waitText(t, tab, "main h1", "Overview")

	violations, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", violations)
	}
}

// startChromium starts headless chromium at 1280×800 trusting exactly the server's
// certificate, with the CSP probe installed, and returns its tab.
func startChromium(t *testing.T, ctx context.Context, s *sesameServer) context.Context {
	t.Helper()
	spki, err := certSPKIHash(s.certFile)
	if err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath()),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 800), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return tab
}

// shooter returns a function that saves a screenshot of the tab as docs/console/NAME.png
// when SESAME_CONSOLE_SCREENSHOTS=1, and does nothing otherwise.
func shooter(t *testing.T, tab context.Context) func(name string, at ...string) {
	if os.Getenv(screenshotsEnv) != "1" {
		return func(string, ...string) {}
	}
	dir := filepath.Join("..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return func(name string, at ...string) {
		t.Helper()
		// The top of the page, where its title and last message are, or the panel at names.
		scroll := `window.scrollTo(0, 0)`
		if len(at) > 0 {
			scroll = fmt.Sprintf(`document.querySelector(%s).scrollIntoView()`, jsString(at[0]))
		}
		if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](scroll)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitText waits until the first element matching sel has text containing want (any text
// when want is empty) and returns that text.
func waitText(t *testing.T, tab context.Context, sel, want string) string {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%s); const t = el ? el.textContent.trim() : "";
	  return t !== "" && t.includes(%s) ? t : false; })()`, jsString(sel), jsString(want))
	got, err := chromedp.Run(tab, chromedp.Poll[string](expr, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		now, _ := chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s) || {textContent: "(none)"}).textContent + " | status: " + ((document.querySelector("#status") || {}).textContent || "")`, jsString(sel))))
		t.Fatalf("waiting for %q in %s: %v; it shows %q", want, sel, err, now)
	}
	return got
}

// getUserMetadata reads a user's user_metadata with `sesame users show --json`.
func getUserMetadata(t *testing.T, s *sesameServer, email string) map[string]any {
	t.Helper()
	var us []struct {
		Email        string         `json:"email"`
		UserMetadata map[string]any `json:"user_metadata"`
	}
	out, err := s.command(t.Context(), "users", "list", "--json").Output()
	if err != nil {
		t.Fatalf("sesame users list: %v", err)
	}
	if err := json.Unmarshal(out, &us); err != nil {
		t.Fatalf("sesame users list --json: %v\n%s", err, out)
	}
	for _, u := range us {
		if u.Email == email {
			return u.UserMetadata
		}
	}
	t.Fatalf("no user %s in %s", email, out)
	return nil
}

// getBody returns the body of GET path on s.
func getBody(t *testing.T, s *sesameServer, path string) string {
	t.Helper()
	res, err := s.httpClient().Get(s.url(path))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kidOf is the key id in the header of a JWT.
func kidOf(t *testing.T, tok any) string {
	t.Helper()
	raw, _ := tok.(string)
	header, _ := decodeJWT(t, raw)
	kid, _ := header["kid"].(string)
	return kid
}
