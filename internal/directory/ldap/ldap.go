// Package ldap is the directory of an LDAP or Active Directory connection (Auth0's "ad"
// strategy; "ldap" is accepted too): users stay in the organisation's directory and Sesame
// checks their passwords there, with github.com/go-ldap/ldap/v3.
//
// Login is search-then-bind, as Dex and Auth0's AD/LDAP connector do: a pooled connection
// bound as the service account searches for the escaped username and must find exactly one
// entry, then a second pooled connection binds as that entry with the user's password. An
// empty password is refused before anything reaches the directory (an empty simple bind is
// an unauthenticated bind, which LDAP servers accept for any DN). Every call is bounded by
// the connection's timeout: a directory that is down or slow yields directory.ErrUnavailable,
// never a hang.
//
// It sits beside directory/database below the directory seam and imports only the seam;
// directory/mirror keeps the Sesame user record of each user it authenticates.
package ldap

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/sesameauth/sesame/internal/directory"
)

// Input bounds: longer inputs are refused as wrong credentials without asking the directory.
const (
	MaxUsernameLength = 512
	MaxPasswordLength = 1024
	// maxGroups bounds the groups read for one user.
	maxGroups = 1000
)

// Directory authenticates the users of one ad/ldap connection.
type Directory struct {
	cfg   Config
	svc   *pool // bound as the service account: searches
	binds *pool // user binds (whoever they leave the connection bound as)
	log   *slog.Logger
	trace func(Step)
	// dummyDN is bound to with the password when no entry matches, so that an unknown user
	// costs the directory round trips a wrong password costs.
	dummyDN string
}

var _ directory.Directory = (*Directory)(nil)

// Step is one step of a login, for `sesame connections test`.
type Step struct {
	Name   string // connect, service bind, search, entry, user bind, groups, profile
	Detail string
	Err    error
	Took   time.Duration
}

// New returns the directory for cfg. trace, when not nil, hears each step of every login.
func New(cfg Config, log *slog.Logger, trace func(Step)) (*Directory, error) {
	if log == nil {
		log = slog.Default()
	}
	dial, err := dialer(cfg)
	if err != nil {
		return nil, err
	}
	d := &Directory{cfg: cfg, log: log, trace: trace}
	d.dummyDN = "cn=sesame-no-such-user," + cfg.Base
	traced := func(ctx context.Context) (*goldap.Conn, error) {
		start := time.Now()
		c, err := dial(ctx)
		d.step("connect", fmt.Sprintf("%s (starttls: %t)", cfg.URL.Redacted(), cfg.StartTLS), err, start)
		return c, err
	}
	d.svc = newPool(cfg.PoolSize, traced, func(c *goldap.Conn) error {
		start := time.Now()
		err := c.Bind(cfg.BindDN, cfg.BindPassword)
		d.step("service bind", cfg.BindDN, err, start)
		if err != nil {
			return fmt.Errorf("service account bind as %s: %w", cfg.BindDN, err)
		}
		return nil
	})
	d.binds = newPool(cfg.PoolSize, traced, nil)
	return d, nil
}

// Config returns the directory's settings.
func (d *Directory) Config() Config { return d.cfg }

// Close closes the pooled connections.
func (d *Directory) Close() {
	d.svc.close()
	d.binds.close()
}

func (d *Directory) step(name, detail string, err error, start time.Time) {
	if d.trace != nil {
		d.trace(Step{Name: name, Detail: detail, Err: err, Took: time.Since(start)})
	}
}

// Authenticate checks username and password against the directory (see the package doc).
// An unknown user fails with directory.ErrUnknownUser after a bind to a DN that does not
// exist, a wrong password with directory.ErrInvalidCredentials, an account the directory
// refuses for its state with *directory.AccountError, and a directory that cannot answer in
// time with directory.ErrUnavailable.
func (d *Directory) Authenticate(ctx context.Context, username, pw string) (directory.Identity, error) {
	if username == "" || len(username) > MaxUsernameLength || len(pw) > MaxPasswordLength {
		return directory.Identity{}, directory.ErrInvalidCredentials
	}
	if pw == "" {
		d.step("user bind", "refused: an empty password is never sent (it would be an unauthenticated bind)", directory.ErrInvalidCredentials, time.Now())
		return directory.Identity{}, directory.ErrInvalidCredentials
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	entries, err := d.search(ctx, d.cfg.Base, fill(d.cfg.UserFilter, username), d.userAttrs())
	if err != nil {
		return directory.Identity{}, err
	}
	switch len(entries) {
	case 0:
		d.step("entry", "no entry matches", directory.ErrUnknownUser, time.Now())
		// Spend the bind a wrong password costs; its answer does not matter unless the
		// directory is down, which the caller must hear about either way.
		if err := d.bind(ctx, d.dummyDN, pw); err != nil && !errors.Is(err, directory.ErrInvalidCredentials) {
			var ae *directory.AccountError
			if !errors.As(err, &ae) {
				return directory.Identity{}, err
			}
		}
		return directory.Identity{}, directory.ErrUnknownUser
	case 1:
		d.step("entry", entries[0].DN, nil, time.Now())
	default:
		d.log.ErrorContext(ctx, "ldap: several entries match one username; login refused",
			"connection", d.cfg.Connection, "entries", len(entries), "filter", d.cfg.UserFilter)
		err := fmt.Errorf("%w: %d entries match the username", directory.ErrInvalidCredentials, len(entries))
		d.step("entry", fmt.Sprintf("%d entries match: refused (a username must name one entry)", len(entries)), err, time.Now())
		return directory.Identity{}, err
	}
	e := entries[0]
	if err := d.bind(ctx, e.DN, pw); err != nil {
		return directory.Identity{}, err
	}
	return d.identity(ctx, e)
}

// Lookup returns the user with this user_id (ad|<connection>|<id>) as the directory has it
// now: directory.ErrUserNotFound when the entry is gone, Blocked when it is disabled.
func (d *Directory) Lookup(ctx context.Context, userID string) (directory.Identity, error) {
	prefix := "ad|" + d.cfg.Connection + "|"
	id, ok := strings.CutPrefix(userID, prefix)
	if !ok || id == "" {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	value, err := d.idFilterValue(id)
	if err != nil {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	entries, err := d.search(ctx, d.cfg.Base, "("+d.cfg.IDAttribute+"="+value+")", d.userAttrs())
	if err != nil {
		return directory.Identity{}, err
	}
	if len(entries) != 1 {
		return directory.Identity{}, directory.ErrUserNotFound
	}
	return d.identity(ctx, entries[0])
}

// UserID returns the user_id of the entry with this id attribute value.
func (d *Directory) userID(id string) string { return "ad|" + d.cfg.Connection + "|" + id }

func (d *Directory) userAttrs() []string {
	a := d.cfg.Attrs
	attrs := []string{d.cfg.IDAttribute, "userAccountControl"}
	for _, x := range append([]string{a.Email, a.Name, a.GivenName, a.FamilyName, a.Nickname, a.Username}, d.cfg.DisabledAttrs...) {
		if x != "" && !slices.Contains(attrs, x) {
			attrs = append(attrs, x)
		}
	}
	return attrs
}

// identity builds the profile of an entry, with its groups.
func (d *Directory) identity(ctx context.Context, e *goldap.Entry) (directory.Identity, error) {
	id := d.idValue(e)
	if id == "" {
		return directory.Identity{}, fmt.Errorf("ldap: entry %s has no %s (ldap_id_attribute)", e.DN, d.cfg.IDAttribute)
	}
	a := d.cfg.Attrs
	get := func(attr string) string {
		if attr == "" {
			return ""
		}
		return e.GetEqualFoldAttributeValue(attr)
	}
	u := directory.Identity{
		UserID:        d.userID(id),
		Connection:    d.cfg.Connection,
		Email:         get(a.Email),
		EmailVerified: d.cfg.EmailVerified && get(a.Email) != "",
		Username:      get(a.Username),
		Name:          get(a.Name),
		GivenName:     get(a.GivenName),
		FamilyName:    get(a.FamilyName),
		Nickname:      get(a.Nickname),
		Blocked:       d.disabled(e),
		Groups:        []string{},
	}
	if u.Nickname == "" {
		u.Nickname = u.Username
	}
	if d.cfg.GroupBase != "" {
		start := time.Now()
		groups, err := d.search(ctx, d.cfg.GroupBase, fill(d.cfg.GroupFilter, e.DN), []string{d.cfg.GroupAttr})
		if err != nil {
			d.step("groups", "", err, start)
			return directory.Identity{}, err
		}
		for _, g := range groups {
			if name := g.GetEqualFoldAttributeValue(d.cfg.GroupAttr); name != "" && len(u.Groups) < maxGroups {
				u.Groups = append(u.Groups, name)
			}
		}
		slices.Sort(u.Groups)
		d.step("groups", strings.Join(u.Groups, ", "), nil, start)
	}
	d.step("profile", fmt.Sprintf("user_id %s, email %q, name %q, blocked %t", u.UserID, u.Email, u.Name, u.Blocked), nil, time.Now())
	return u, nil
}

// disabled tells whether the entry is disabled: Active Directory's ACCOUNTDISABLE bit of
// userAccountControl, or one of the disabled attributes (OpenLDAP's ppolicy lock,
// pwdAccountLockedTime, by default).
func (d *Directory) disabled(e *goldap.Entry) bool {
	if v := e.GetEqualFoldAttributeValue("userAccountControl"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n&0x2 != 0 {
			return true
		}
	}
	for _, a := range d.cfg.DisabledAttrs {
		if e.GetEqualFoldAttributeValue(a) != "" {
			return true
		}
	}
	return false
}

// idValue is the entry's id as it appears in the user_id: Active Directory's binary
// objectGUID in its usual text form, any other attribute as it is.
func (d *Directory) idValue(e *goldap.Entry) string {
	if strings.EqualFold(d.cfg.IDAttribute, "objectGUID") {
		raw := e.GetEqualFoldRawAttributeValue(d.cfg.IDAttribute)
		if len(raw) != 16 {
			return ""
		}
		return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(raw[0:4]),
			binary.LittleEndian.Uint16(raw[4:6]), binary.LittleEndian.Uint16(raw[6:8]), raw[8:10], raw[10:16])
	}
	return e.GetEqualFoldAttributeValue(d.cfg.IDAttribute)
}

// idFilterValue turns a user_id's id back into the escaped value of a filter.
func (d *Directory) idFilterValue(id string) (string, error) {
	if !strings.EqualFold(d.cfg.IDAttribute, "objectGUID") {
		return goldap.EscapeFilter(id), nil
	}
	h := strings.ReplaceAll(id, "-", "")
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != 16 {
		return "", errors.New("not a GUID")
	}
	// Back to the wire order: the first three groups are little-endian.
	le := make([]byte, 16)
	binary.LittleEndian.PutUint32(le[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(le[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(le[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(le[8:], raw[8:])
	var b strings.Builder
	for _, c := range le {
		fmt.Fprintf(&b, `\%02x`, c)
	}
	return b.String(), nil
}

// search runs one search on a service connection.
func (d *Directory) search(ctx context.Context, base, filter string, attrs []string) ([]*goldap.Entry, error) {
	start := time.Now()
	var res *goldap.SearchResult
	err := d.with(ctx, d.svc, func(c *goldap.Conn) error {
		req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
			2, int(d.cfg.Timeout/time.Second)+1, false, filter, attrs, nil)
		var err error
		res, err = c.Search(req)
		// A size limit of two is all it takes to tell "one" from "several".
		if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) && res != nil {
			err = nil
		}
		return err
	})
	if base == d.cfg.Base { // the group search reports its own step
		n := 0
		if res != nil {
			n = len(res.Entries)
		}
		d.step("search", fmt.Sprintf("base %q, filter %s: %d entries", base, filter, n), err, start)
	}
	if err != nil {
		return nil, d.unavailable("search", err)
	}
	return res.Entries, nil
}

// bind binds as dn with pw on a bind connection and maps the answer.
func (d *Directory) bind(ctx context.Context, dn, pw string) error {
	start := time.Now()
	err := d.with(ctx, d.binds, func(c *goldap.Conn) error {
		err := c.Bind(dn, pw)
		if isCredentialErr(err) {
			// A refused bind is an answer, not a broken connection.
			return credErr{err}
		}
		return err
	})
	var ce credErr
	if errors.As(err, &ce) {
		mapped := mapBindError(ce.err)
		if dn != d.dummyDN {
			d.step("user bind", dn, mapped, start)
		}
		return mapped
	}
	if dn != d.dummyDN {
		d.step("user bind", dn, err, start)
	}
	if err != nil {
		return d.unavailable("bind", err)
	}
	return nil
}

type credErr struct{ err error }

func (e credErr) Error() string { return e.err.Error() }

// with runs fn on a pooled connection under ctx's deadline. A reused connection that turns out
// dead (the directory restarted) is replaced once by a fresh one, and the other idle ones are
// dropped with it.
func (d *Directory) with(ctx context.Context, p *pool, fn func(*goldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx)
		if err != nil {
			return err
		}
		setTimeout(ctx, c)
		err = fn(c)
		var ce credErr
		healthy := err == nil || errors.As(err, &ce) || isResultErr(err)
		p.put(c, healthy)
		if !healthy && reused && attempt == 0 && ctx.Err() == nil && isNetworkErr(err) {
			p.drain()
			continue
		}
		return err
	}
}

// unavailable wraps a failure to get an answer from the directory.
func (d *Directory) unavailable(op string, err error) error {
	return fmt.Errorf("%w: ldap %s (%s): %w", directory.ErrUnavailable, op, d.cfg.URL.Redacted(), err)
}

// isResultErr tells an answer of the directory (an LDAP result code) from a failure to get one.
func isResultErr(err error) bool {
	var le *goldap.Error
	return errors.As(err, &le) && le.ResultCode < goldap.ErrorNetwork && le.ResultCode != 0
}

func isNetworkErr(err error) bool {
	var le *goldap.Error
	return errors.As(err, &le) && le.ResultCode == goldap.ErrorNetwork && !strings.Contains(le.Error(), "timed out")
}

// isCredentialErr: invalidCredentials (49), and constraintViolation (19), which password
// policies answer for a refused password.
func isCredentialErr(err error) bool {
	return goldap.IsErrorAnyOf(err, goldap.LDAPResultInvalidCredentials, goldap.LDAPResultConstraintViolation)
}

// adSubCode finds Active Directory's sub-code in the diagnostic message of error 49
// ("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563").
var adSubCode = regexp.MustCompile(`(?i)\bdata ([0-9a-f]{3,8})\b`)

// mapBindError maps a refused bind: Active Directory's sub-codes that are about the account,
// not the password, become *directory.AccountError; everything else is a wrong password.
func mapBindError(err error) error {
	m := adSubCode.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%w: %v", directory.ErrInvalidCredentials, err)
	}
	var reason directory.AccountReason
	detail := "Active Directory sub-code " + m[1]
	switch strings.ToLower(m[1]) {
	case "532":
		reason, detail = directory.PasswordExpired, detail+": password expired"
	case "533":
		reason, detail = directory.AccountDisabled, detail+": account disabled"
	case "534":
		reason, detail = directory.AccountDisabled, detail+": logon type not granted"
	case "701":
		reason, detail = directory.AccountExpired, detail+": account expired"
	case "773":
		reason, detail = directory.PasswordChangeRequired, detail+": user must reset password"
	case "775":
		reason, detail = directory.AccountLocked, detail+": account locked out"
	default: // 525 no such user, 52e wrong password, 530/531 not permitted now/here
		return fmt.Errorf("%w: %v", directory.ErrInvalidCredentials, err)
	}
	return &directory.AccountError{Reason: reason, Detail: detail}
}
