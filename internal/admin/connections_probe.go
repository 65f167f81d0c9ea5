package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/sesameauth/sesame/internal/directory"
	ldapdir "github.com/sesameauth/sesame/internal/directory/ldap"
	"github.com/sesameauth/sesame/internal/store"
)

// DirectoryTestStep is one step of a test login against an LDAP/AD directory, as the
// directory traced it: connect, service bind, search, entry, user bind, groups, profile.
type DirectoryTestStep struct {
	Name   string `json:"name"`
	Detail string `json:"detail"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	// TookMS is how long the step took, in milliseconds.
	TookMS float64 `json:"took_ms"`
}

// DirectoryTest is the outcome of a test login against a connection's directory (the CLI's
// `sesame connections test` and the Management API's POST /connections/{id}/test).
type DirectoryTest struct {
	Connection string              `json:"connection"`
	URL        string              `json:"url"`
	Timeout    string              `json:"timeout"`
	Steps      []DirectoryTestStep `json:"steps"`
	Succeeded  bool                `json:"succeeded"`
	// Explanation says, when the login was refused, what that means for the admin.
	Explanation string   `json:"explanation,omitempty"`
	UserID      string   `json:"user_id,omitempty"`
	Email       string   `json:"email,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	// Blocked: the entry is disabled in the directory, so a login answers "user is blocked".
	Blocked bool `json:"blocked,omitempty"`
}

// TestDirectoryLogin tries a login against the directory of an ad/ldap connection as the
// token endpoint does, recording each step. A refused login is the outcome (Succeeded false,
// with an Explanation), not an error; errors are a connection of another strategy, missing
// input, or options that do not parse. Nothing is written.
func (s *Service) TestDirectoryLogin(ctx context.Context, c store.Connection, username, password string) (DirectoryTest, error) {
	if c.Strategy != StrategyAD && c.Strategy != StrategyLDAP {
		return DirectoryTest{}, invalid("", "connection %s has strategy %s: only ad and ldap connections can be tested against their directory", c.Name, c.Strategy)
	}
	// An empty password goes to the directory, which refuses it as a login would (an LDAP
	// bind without one would be an anonymous bind that "succeeds").
	if username == "" {
		return DirectoryTest{}, invalid("username", "is required")
	}
	cfg, err := ldapdir.ParseConfig(c.Name, c.Strategy, c.Options, s.Box)
	if err != nil {
		return DirectoryTest{}, fmt.Errorf("connection %s: %w", c.Name, err)
	}
	out := DirectoryTest{Connection: c.Name, URL: cfg.URL.Redacted(), Timeout: cfg.Timeout.String(), Steps: []DirectoryTestStep{}}
	d, err := ldapdir.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(st ldapdir.Step) {
		step := DirectoryTestStep{Name: st.Name, Detail: st.Detail, OK: st.Err == nil, TookMS: float64(st.Took.Microseconds()) / 1000}
		if st.Err != nil {
			step.Error = st.Err.Error()
		}
		out.Steps = append(out.Steps, step)
	})
	if err != nil {
		return DirectoryTest{}, err
	}
	defer d.Close()
	u, err := d.Authenticate(ctx, username, password)
	if err != nil {
		out.Explanation = ExplainDirectoryError(err)
		return out, nil
	}
	out.Succeeded, out.UserID, out.Email, out.Groups, out.Blocked = true, u.UserID, u.Email, u.Groups, u.Blocked
	return out, nil
}

// TestDirectoryLoginByID is TestDirectoryLogin for the connection with this id.
func (s *Service) TestDirectoryLoginByID(ctx context.Context, id, username, password string) (DirectoryTest, error) {
	c, err := s.GetConnectionByID(ctx, id)
	if err != nil {
		return DirectoryTest{}, err
	}
	return s.TestDirectoryLogin(ctx, c, username, password)
}

// ExplainDirectoryError says what a refused test login means for the admin.
func ExplainDirectoryError(err error) string {
	var ae *directory.AccountError
	switch {
	case errors.Is(err, directory.ErrUnknownUser):
		return "no entry matches the username (check ldap_base and ldap_user_by_name)"
	case errors.Is(err, directory.ErrInvalidCredentials):
		return "wrong password, an empty password, or several entries match the username: " + err.Error()
	case errors.As(err, &ae):
		return "the directory refused the account: " + ae.Detail
	case errors.Is(err, directory.ErrUnavailable):
		return "the directory could not be reached or did not answer in time: " + err.Error()
	}
	return err.Error()
}
