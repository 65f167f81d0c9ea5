package admin

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/sesameauth/sesame/internal/directory/scripted"
	"github.com/sesameauth/sesame/internal/hooks"
)

// customDBOptions checks and prepares the options of a custom-database connection
// (options.enabledDatabaseCustomization: true) before they are stored, wherever they come from
// (the tenant file, the Management API):
//   - customScripts holds only Auth0's script names, login among them; each is the code, or,
//     when baseDir is not "" (the tenant file), a file reference relative to it as the Deploy
//     CLI exports them ("./databases/legacy/login.js"), read here so that the store holds code;
//   - every script compiles and requires only modules the sandbox has (hooks.DBModules);
//   - configuration holds strings, sealed here with the key-encryption key (a value sealed
//     already, as the Management API shows it, is kept; so is a stored one that opens to the
//     same value, so that re-applying a file changes nothing);
//   - import_mode is a boolean.
//
// The Management API passes baseDir "": a file reference from the network must never read
// the server's files. Errors are *ValidationError values, joined.
func (s *Service) customDBOptions(name, baseDir string, opts, stored map[string]any) (map[string]any, error) {
	if on, ok := opts[scripted.OptEnabled]; ok {
		if _, isBool := on.(bool); !isBool {
			return nil, invalid("options."+scripted.OptEnabled, "must be a boolean")
		}
	}
	if on, _ := opts[scripted.OptEnabled].(bool); !on {
		return opts, nil
	}
	out := maps.Clone(opts)
	var errs []error
	if v, ok := opts[scripted.OptImportMode]; ok {
		if _, isBool := v.(bool); !isBool {
			errs = append(errs, invalid("options."+scripted.OptImportMode, "must be a boolean"))
		}
	}
	rawScripts, ok := opts[scripted.OptScripts].(map[string]any)
	if !ok {
		errs = append(errs, invalid("options."+scripted.OptScripts, "is required with %s: true, with a login script at least", scripted.OptEnabled))
	}
	check := hooks.NewEngine(hooks.Options{})
	scripts := map[string]any{}
	keys := slices.Sorted(maps.Keys(rawScripts))
	for _, k := range keys {
		field := "options." + scripted.OptScripts + "." + k
		if !slices.Contains(hooks.DBScriptNames, k) {
			errs = append(errs, invalid(field, "is not a custom database script (want one of %s)", strings.Join(hooks.DBScriptNames, ", ")))
			continue
		}
		ref, isStr := rawScripts[k].(string)
		if !isStr || strings.TrimSpace(ref) == "" {
			errs = append(errs, invalid(field, "must be the script's code or a file name"))
			continue
		}
		src := ref
		if baseDir != "" {
			var err error
			if src, err = hookSource(baseDir, ref); err != nil {
				errs = append(errs, invalid(field, "%v", err))
				continue
			}
		}
		if err := check.CheckDBScript(name+"/"+k, src); err != nil {
			errs = append(errs, invalid(field, "%v", err))
			continue
		}
		scripts[k] = src
	}
	if rawScripts != nil && scripts["login"] == nil && !slices.Contains(keys, "login") {
		errs = append(errs, invalid("options."+scripted.OptScripts+".login", "is required"))
	}
	out[scripted.OptScripts] = scripts
	if c, ok := opts[scripted.OptConfiguration]; ok && c != nil {
		m, isMap := c.(map[string]any)
		if !isMap {
			errs = append(errs, invalid("options."+scripted.OptConfiguration, "must be a map of names to strings"))
		} else {
			sealed, err := scripted.SealConfiguration(s.Box, name, m, stored[scripted.OptConfiguration])
			if err != nil {
				errs = append(errs, invalid("options."+scripted.OptConfiguration, "%s", strings.TrimPrefix(err.Error(), "options.configuration")))
			} else {
				out[scripted.OptConfiguration] = sealed
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
