package admin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ldapdir "github.com/sesameauth/sesame/internal/directory/ldap"
)

// The strategies of LDAP and Active Directory connections (Auth0 names them "ad"; "ldap" is
// accepted as a synonym).
const (
	StrategyAD   = "ad"
	StrategyLDAP = "ldap"
)

// maxCAFile bounds an ldap_ca file.
const maxCAFile = 1 << 20

// isDirectoryStrategy tells whether users of the strategy log in through the password grant.
func isDirectoryStrategy(strategy string) bool {
	return strategy == StrategyAuth0 || strategy == StrategyAD || strategy == StrategyLDAP
}

// connectionOptions returns the options of a connection of strategy as they are stored, or
// every problem with them. For ad/ldap: an ldap_ca file path (relative to baseDir) is read
// and stored as PEM, so that every node has it; plain bind credentials are sealed (prev, the
// stored options, keeps its sealed credentials when opts gives none); the whole is checked as
// the directory will read it. A database connection's options go through customDBOptions
// (scripts read relative to baseDir, configuration sealed); a passwordless connection's are
// checked by CheckConnectionOptions. Other strategies' pass unchanged.
func (s *Service) connectionOptions(name, strategy string, opts, prev map[string]any, baseDir string) (map[string]any, []error) {
	if errs := CheckConnectionOptions(strategy, opts); len(errs) > 0 {
		return nil, errs
	}
	if strategy == StrategyAuth0 || strategy == "" {
		out, err := s.customDBOptions(name, baseDir, opts, prev)
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			return nil, j.Unwrap()
		} else if err != nil {
			return nil, []error{err}
		}
		return out, nil
	}
	if strategy != StrategyAD && strategy != StrategyLDAP {
		return opts, nil
	}
	if opts == nil {
		opts = map[string]any{}
	}
	var errs []error
	out := make(map[string]any, len(opts))
	for k, v := range opts {
		out[k] = v
	}
	if ca, ok := out[ldapdir.OptCA].(string); ok && strings.TrimSpace(ca) != "" && !strings.Contains(ca, "-----BEGIN") {
		pem, err := readCA(baseDir, strings.TrimSpace(ca))
		if err != nil {
			errs = append(errs, invalid("options."+ldapdir.OptCA, "%v", err))
		} else {
			out[ldapdir.OptCA] = pem
		}
	}
	if s.Box == nil {
		return nil, append(errs, invalid("options."+ldapdir.OptBindCredentials, "cannot be sealed: no key-encryption key"))
	}
	out = ldapdir.SealOptions(s.Box, name, out, prev)
	if _, err := ldapdir.ParseConfig(name, strategy, out, nil); err != nil {
		var multi interface{ Unwrap() []error }
		if errors.As(err, &multi) {
			for _, e := range multi.Unwrap() {
				field, msg, _ := strings.Cut(e.Error(), ": ")
				errs = append(errs, invalid(field, "%s", msg))
			}
		} else {
			errs = append(errs, invalid("options", "%v", err))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func readCA(baseDir, path string) (string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	if fi.Size() > maxCAFile {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxCAFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return string(b), nil
}

// PublicConnectionOptions are a connection's options as listings show them: sealed secrets
// left out.
func PublicConnectionOptions(strategy string, opts map[string]any) map[string]any {
	if strategy != StrategyAD && strategy != StrategyLDAP {
		return opts
	}
	return ldapdir.PublicOptions(opts)
}
