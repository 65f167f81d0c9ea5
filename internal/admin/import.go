package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/store"
)

// MaxImportBytes bounds a users file. Auth0 takes 500 KB per job and asks for several jobs
// beyond that; Sesame reads one file of up to 64 MiB (a few hundred thousand users).
const MaxImportBytes = 64 << 20

// ErrImportFile is wrapped by ImportUsers for a file that is not a JSON array of objects; no
// user has been imported then.
var ErrImportFile = errors.New("users file")

// ImportOptions tune ImportUsers.
type ImportOptions struct {
	// Upsert updates users that already exist (matched by user_id, else by email within the
	// connection) with the fields the row carries, as Auth0's upsert does. Without it such a
	// row fails as a duplicate.
	Upsert bool
}

// ImportReport is the outcome of ImportUsers. Rows are independent: a failed row does not
// stop the others.
type ImportReport struct {
	Total   int `json:"total"`
	Created int `json:"inserted"`
	Updated int `json:"updated"`
	// Failed lists the rows not imported, in file order.
	Failed []ImportRowError `json:"failed"`
	// Warnings lists parts of imported rows that Sesame did not apply.
	Warnings []ImportRowError `json:"warnings"`
}

// ImportRowError is one row's failure or warning. Index is the row's 0-based position in the
// file's array.
type ImportRowError struct {
	Index  int    `json:"index"`
	Email  string `json:"email,omitempty"`
	Reason string `json:"error"`
}

func (e ImportRowError) String() string {
	if e.Email != "" {
		return fmt.Sprintf("users[%d] (%s): %s", e.Index, e.Email, e.Reason)
	}
	return fmt.Sprintf("users[%d]: %s", e.Index, e.Reason)
}

// importUser is one element of Auth0's bulk import file ("Bulk User Import Database Schema
// and Examples" in Auth0's documentation). Pointers tell an absent field from a zero one, so
// that an upsert changes only what the row names.
type importUser struct {
	Email              *string         `json:"email"`
	EmailVerified      *bool           `json:"email_verified"`
	UserID             *string         `json:"user_id"`
	Username           *string         `json:"username"`
	GivenName          *string         `json:"given_name"`
	FamilyName         *string         `json:"family_name"`
	Name               *string         `json:"name"`
	Nickname           *string         `json:"nickname"`
	Picture            *string         `json:"picture"`
	Blocked            *bool           `json:"blocked"`
	AppMetadata        map[string]any  `json:"app_metadata"`
	UserMetadata       map[string]any  `json:"user_metadata"`
	PasswordHash       *string         `json:"password_hash"`
	CustomPasswordHash json.RawMessage `json:"custom_password_hash"`
	// Accepted by Auth0's schema but not imported by Sesame (reported as warnings).
	MFAFactors    json.RawMessage `json:"mfa_factors"`
	PhoneNumber   *string         `json:"phone_number"`
	PhoneVerified *bool           `json:"phone_verified"`
}

// reservedAppMetadata are app_metadata keys Auth0 refuses, because they name profile fields.
var reservedAppMetadata = []string{"__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email", "globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata", "multifactor_last_modified", "multifactor", "updated_at", "user_id"}

// ParseImportFile splits a bulk import file into its rows. It fails (wrapping ErrImportFile)
// when the input is not one JSON array, is larger than MaxImportBytes, or has trailing data.
func ParseImportFile(r io.Reader) ([]json.RawMessage, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImportFile, err)
	}
	if len(data) > MaxImportBytes {
		return nil, fmt.Errorf("%w: larger than %d MiB; split it", ErrImportFile, MaxImportBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImportFile, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%w: must be a JSON array of users", ErrImportFile)
	}
	var rows []json.RawMessage
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: element %d: %v", ErrImportFile, len(rows), err)
		}
		rows = append(rows, raw)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, fmt.Errorf("%w: %v", ErrImportFile, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the array", ErrImportFile)
	}
	return rows, nil
}

// passwordWrapper is the part of password.Hasher that wraps imported fast digests in argon2id,
// so that a leaked database does not give them away and a wrong password costs what an
// unknown user costs.
type passwordWrapper interface {
	Wrap(ctx context.Context, encoded string) (string, error)
}

// ImportUsers imports an Auth0 bulk-import users file into a database connection. Passwords
// arrive as password_hash (bcrypt) or custom_password_hash (see password.FromAuth0CustomHash)
// and are stored as they are, except that fast digests (md5, sha*, hmac, ldap) are wrapped in
// argon2id (one argon2id per such user at import): users log in with their old password and
// are rehashed with plain argon2id on that login. A user without either has no password until an admin sets one.
// user_id becomes "auth0|<user_id>" (an id that already carries the prefix is kept as is). A
// malformed file is an error and imports nothing; a bad row is reported in the report and
// skipped.
func (s *Service) ImportUsers(ctx context.Context, connection string, r io.Reader, opts ImportOptions) (ImportReport, error) {
	conn, err := s.databaseConnection(ctx, connection)
	if err != nil {
		return ImportReport{}, err
	}
	rows, err := ParseImportFile(r)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Total: len(rows), Failed: []ImportRowError{}, Warnings: []ImportRowError{}}
	for i, raw := range rows {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		created, email, warnings, err := s.importRow(ctx, conn, raw, opts)
		for _, w := range warnings {
			rep.Warnings = append(rep.Warnings, ImportRowError{Index: i, Email: email, Reason: w})
		}
		switch {
		case err != nil:
			rep.Failed = append(rep.Failed, ImportRowError{Index: i, Email: email, Reason: err.Error()})
		case created:
			rep.Created++
		default:
			rep.Updated++
		}
	}
	return rep, nil
}

// importRow imports one row; it reports whether a user was created (else updated), the row's
// email for the report, and what it ignored.
func (s *Service) importRow(ctx context.Context, conn store.Connection, raw json.RawMessage, opts ImportOptions) (created bool, email string, warnings []string, err error) {
	var in importUser
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return false, "", nil, fmt.Errorf("not a valid user object: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if in.Email != nil {
		email = *in.Email
	}
	if len(in.MFAFactors) > 0 && string(in.MFAFactors) != "null" {
		warnings = append(warnings, "mfa_factors not imported: users enroll again")
	}
	if in.PhoneNumber != nil || in.PhoneVerified != nil {
		warnings = append(warnings, "phone_number and phone_verified not imported: database users have no phone")
	}

	var errs []error
	if in.Email == nil {
		errs = append(errs, invalid("email", "is required"))
	} else if e, err := CheckEmail(*in.Email); err != nil {
		errs = append(errs, err)
	} else {
		email = e
	}
	if in.Username != nil {
		if err := CheckUsername(*in.Username); err != nil {
			errs = append(errs, err)
		}
	}
	var userID string
	if in.UserID != nil {
		id := strings.TrimSpace(*in.UserID)
		switch {
		case id == "" || len(id) > 255:
			errs = append(errs, invalid("user_id", "must be 1 to 255 characters"))
		case strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r == 0x7f }):
			errs = append(errs, invalid("user_id", "must not contain spaces or control characters"))
		case strings.HasPrefix(id, "auth0|"):
			userID = id
		default:
			userID = "auth0|" + id
		}
	}
	for _, k := range reservedAppMetadata {
		if _, ok := in.AppMetadata[k]; ok {
			errs = append(errs, invalid("app_metadata."+k, "is a reserved name"))
		}
	}
	var hash string
	hasCustom := len(in.CustomPasswordHash) > 0 && string(in.CustomPasswordHash) != "null"
	switch {
	case in.PasswordHash != nil && hasCustom:
		errs = append(errs, invalid("password_hash", "give password_hash or custom_password_hash, not both"))
	case in.PasswordHash != nil:
		if scheme, err := password.Identify(*in.PasswordHash); err != nil || scheme != "bcrypt" {
			errs = append(errs, invalid("password_hash", "must be a bcrypt hash ($2a$ or $2b$); use custom_password_hash for other algorithms"))
		} else {
			hash = *in.PasswordHash
		}
	case hasCustom:
		h, err := password.FromAuth0CustomHash(in.CustomPasswordHash)
		if err != nil {
			errs = append(errs, invalid("custom_password_hash", "%v", strings.TrimPrefix(err.Error(), "custom_password_hash: ")))
		} else if w, ok := s.Hasher.(passwordWrapper); ok {
			// A fast digest is stored only inside argon2id (password.Hasher.Wrap).
			if hash, err = w.Wrap(ctx, h); err != nil {
				return false, email, warnings, fmt.Errorf("wrapping the password hash: %w", err)
			}
		} else {
			hash = h
		}
	}
	if len(errs) > 0 {
		return false, email, warnings, errors.Join(errs...)
	}

	existing, found, err := s.findImported(ctx, conn.Name, userID, email)
	if err != nil {
		return false, email, warnings, err
	}
	if !found {
		if in.Username == nil && requiresUsername(conn) {
			return false, email, warnings, invalid("username", "is required by connection %q", conn.Name)
		}
		now := s.now()
		u := store.User{ID: userID, Connection: conn.Name, Email: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		if u.ID == "" {
			u.ID = store.NewUserID()
		}
		in.apply(&u)
		defaultProfile(&u)
		if err := s.Store.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return false, email, warnings, fmt.Errorf("DUPLICATED_USER: the user already exists (id, email or username taken)")
			}
			return false, email, warnings, err
		}
		return true, email, warnings, nil
	}
	if !opts.Upsert {
		return false, email, warnings, fmt.Errorf("DUPLICATED_USER: the user already exists (%s); import with upsert to update it", existing.ID)
	}
	now := s.now()
	err = s.Store.UpdateUser(ctx, existing.ID, func(u *store.User) error {
		u.Email = email
		if hash != "" {
			u.PasswordHash = hash
		}
		in.apply(u)
		u.UpdatedAt = now
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return false, email, warnings, fmt.Errorf("DUPLICATED_USER: the new email or username is taken by another user")
	}
	return false, email, warnings, err
}

// findImported finds the user a row names: by user_id when given (it must then be in this
// connection and agree with the email's owner), else by email in the connection.
func (s *Service) findImported(ctx context.Context, connection, userID, email string) (store.User, bool, error) {
	byEmail, err := s.Store.FindUser(ctx, connection, email)
	emailFound := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, err
	}
	if userID == "" {
		return byEmail, emailFound, nil
	}
	byID, err := s.Store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		if emailFound {
			return store.User{}, false, fmt.Errorf("DUPLICATED_USER: email %q belongs to user %s, not %s", email, byEmail.ID, userID)
		}
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	if byID.Connection != connection {
		return store.User{}, false, fmt.Errorf("user %s exists in connection %q", userID, byID.Connection)
	}
	if emailFound && byEmail.ID != byID.ID {
		return store.User{}, false, fmt.Errorf("DUPLICATED_USER: email %q belongs to user %s, not %s", email, byEmail.ID, userID)
	}
	return byID, true, nil
}

// apply copies the profile fields the row carries onto u.
func (in *importUser) apply(u *store.User) {
	applyProfile(u, profileFields{Username: in.Username, GivenName: in.GivenName, FamilyName: in.FamilyName, Name: in.Name,
		Nickname: in.Nickname, Picture: in.Picture, EmailVerified: in.EmailVerified, Blocked: in.Blocked})
	if in.AppMetadata != nil {
		u.AppMetadata = maps.Clone(in.AppMetadata)
	}
	if in.UserMetadata != nil {
		u.UserMetadata = maps.Clone(in.UserMetadata)
	}
}

// profileFields are the profile fields an import row or a PATCH may set; nil leaves a field.
type profileFields struct {
	Username, GivenName, FamilyName, Name, Nickname, Picture *string
	EmailVerified, Blocked                                   *bool
}

// applyProfile copies the given fields onto u.
func applyProfile(u *store.User, f profileFields) {
	for _, x := range []struct{ dst, src *string }{{&u.Username, f.Username}, {&u.GivenName, f.GivenName},
		{&u.FamilyName, f.FamilyName}, {&u.Name, f.Name}, {&u.Nickname, f.Nickname}, {&u.Picture, f.Picture}} {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
	if f.EmailVerified != nil {
		u.EmailVerified = *f.EmailVerified
	}
	if f.Blocked != nil {
		u.Blocked = *f.Blocked
	}
}
