package scripted_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sesameauth/sesame/internal/admin"
	"github.com/sesameauth/sesame/internal/directory"
	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

// legacyRow reads a user's row (id and bcrypt hash) from the legacy database; ok is false
// when there is none.
func (db *legacyDB) row(t *testing.T, email string) (id int, hash string, ok bool) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	err = c.QueryRow(t.Context(), `SELECT id, password FROM users WHERE email = $1`, email).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return id, hash, true
}

// TestUserOperations drives the admin service's user operations (what the CLI and the
// Management API call) on a custom database without import_mode: each runs its script
// against the legacy PostgreSQL database, and logins through the realm see the effect.
func TestUserOperations(t *testing.T) {
	db := newLegacyDB(t, legacyUser{"gina", "gina@example.com", "gina-pw-1"})
	f := newFixture(t, scripted.Options{})
	svc := &admin.Service{Store: f.st, Hasher: password.NewHasher(cheap, 2), Box: f.box, CustomDB: f.realms}
	ctx := t.Context()
	scripts := map[string]any{}
	for k, file := range map[string]string{"login": "pg_login.js", "get_user": "pg_get_user.js", "create": "pg_create.js",
		"change_password": "pg_change_password.js", "change_email": "pg_change_email.js", "delete": "pg_delete.js"} {
		scripts[k] = script(t, file)
	}
	conn, err := svc.CreateConnectionFrom(ctx, admin.ConnectionInput{Name: conn, Options: map[string]any{
		"enabledDatabaseCustomization": true, "customScripts": scripts, "configuration": map[string]any{"PG_URL": db.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.realms.Directory(conn)
	if err != nil {
		t.Fatal(err)
	}
	login := func(email, pw string) (directory.Identity, error) { return d.Authenticate(ctx, email, pw) }

	// create: get_user finds nobody, create inserts the row, get_user's profile names the user.
	u, err := svc.CreateUser(ctx, admin.UserInput{Connection: conn.Name, Email: "hank@example.com", Password: "Hank-pw-1!xyz"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	id, _, ok := db.row(t, "hank@example.com")
	if !ok || u.ID != "auth0|"+strconv.Itoa(id) || u.PasswordHash != "" {
		t.Fatalf("created %+v; legacy row id %d (%v)", u, id, ok)
	}
	if got, err := login("hank@example.com", "Hank-pw-1!xyz"); err != nil || got.UserID != u.ID {
		t.Fatalf("login after create: %+v, %v", got, err)
	}
	// A user the legacy database has already is a conflict (get_user finds Gina).
	var ce *admin.ConflictError
	if _, err := svc.CreateUser(ctx, admin.UserInput{Connection: conn.Name, Email: "gina@example.com", Password: "Other-pw-1!xyz"}); !errors.As(err, &ce) {
		t.Errorf("CreateUser of a legacy user: %v, want a ConflictError", err)
	}

	// change_password: the legacy row gets the new hash; the old password stops working.
	if err := svc.SetPassword(ctx, u.ID, "Hank-pw-2!xyz"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if _, err := login("hank@example.com", "Hank-pw-1!xyz"); !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Errorf("old password after change: %v", err)
	}
	if _, err := login("hank@example.com", "Hank-pw-2!xyz"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if got, _ := f.st.GetUser(ctx, u.ID); got.PasswordHash != "" {
		t.Error("a password hash was stored for a user whose password lives in the legacy database")
	}

	// change_email through UpdateUser.
	newEmail := "henry@example.com"
	if _, err := svc.UpdateUser(ctx, u.ID, admin.UserPatch{Connection: &conn.Name, Email: &newEmail}); err != nil {
		t.Fatalf("UpdateUser email: %v", err)
	}
	if _, _, ok := db.row(t, newEmail); !ok {
		t.Error("the legacy row did not move to the new email")
	}
	if _, err := login(newEmail, "Hank-pw-2!xyz"); err != nil {
		t.Errorf("login with the new email: %v", err)
	}

	// delete: the legacy row and the Sesame record go.
	if err := svc.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, _, ok := db.row(t, newEmail); ok {
		t.Error("the legacy row survived DeleteUser")
	}
	if _, err := f.st.GetUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Sesame record after delete: %v", err)
	}
	if _, err := login(newEmail, "Hank-pw-2!xyz"); !errors.Is(err, directory.ErrUnknownUser) {
		t.Errorf("login after delete: %v", err)
	}
}
