package config

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// GuardianFactor is one entry of the guardianFactors section (Auth0's
// /api/v2/guardian/factors), e.g.
//
//	guardianFactors:
//	  - {name: otp, enabled: true}
//	  - {name: email, enabled: true}
//	  - {name: recovery-code, enabled: true}
//
// Sesame applies otp, email, sms and recovery-code; other factors (push-notification, duo,
// webauthn-*) are reported as ignored when enabled.
type GuardianFactor struct {
	// Path is where the factor sits in the file, e.g. "guardianFactors[1]".
	Path    string
	Name    string
	Enabled bool
}

// GuardianPolicies is the guardianPolicies section: policies [all-applications] makes MFA
// required for every password login; [] (or none) leaves it to Rules and Actions.
type GuardianPolicies struct {
	Policies []string
}

// SupportedGuardianFactors are the factor names Sesame applies.
var SupportedGuardianFactors = []string{"otp", "email", "sms", "recovery-code"}

func (d *tenantDecoder) guardianFactors(n *yaml.Node, path string) []GuardianFactor {
	out := []GuardianFactor{}
	for i, e := range d.items(n, path) {
		p := index(path, i)
		f := GuardianFactor{Path: p}
		d.object(e, p, fields{set: map[string]func(*yaml.Node, string){
			"name": d.setStr(&f.Name),
			"enabled": func(n *yaml.Node, p string) {
				if b, ok := d.boolean(n, p); ok {
					f.Enabled = b
				}
			},
		}, ignored: []string{"trial_expired"}})
		// A factor without a name is admin's to refuse (Apply); one Sesame does not have is
		// listed as ignored.
		if f.Name != "" && !slices.Contains(SupportedGuardianFactors, f.Name) {
			if f.Enabled {
				d.ignore(p, "factor "+f.Name+" is not supported")
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

func (d *tenantDecoder) guardianPolicies(n *yaml.Node, path string) *GuardianPolicies {
	gp := &GuardianPolicies{Policies: []string{}}
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"policies": d.setStrings(&gp.Policies),
	}})
	// Which policies are valid is admin's rule (Apply); adaptive MFA is listed as ignored.
	for i, p := range gp.Policies {
		if p == "confidence-score" {
			d.ignore(index(join(path, "policies"), i), "adaptive MFA is not supported")
		}
	}
	return gp
}
