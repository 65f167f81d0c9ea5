package config

import "go.yaml.in/yaml/v3"

// AttackProtection is the attackProtection section (Auth0's /api/v2/attack-protection objects,
// as the Deploy CLI exports them). Every field is optional: applying the section changes only
// what it names, on top of the stored settings (or Auth0's defaults). For example:
//
//	attackProtection:
//	  bruteForceProtection:
//	    enabled: true
//	    shields: [block, user_notification]
//	    mode: count_per_identifier_and_ip
//	    allowlist: [10.0.0.0/8]
//	    max_attempts: 10
//	  suspiciousIpThrottling:
//	    enabled: true
//	    shields: [admin_notification, block]
//	    allowlist: []
//	    stage:
//	      pre-login: {max_attempts: 100, rate: 864000}
//	  breachedPasswordDetection:
//	    enabled: true
//	    shields: [block]
//	    method: standard
type AttackProtection struct {
	BruteForce   *BruteForceProtection
	SuspiciousIP *SuspiciousIPThrottling
	Breached     *BreachedPasswordDetection
}

// BruteForceProtection is attackProtection.bruteForceProtection. Nil slices are absent; an
// empty list (shields: []) is a value (no shield: monitoring only).
type BruteForceProtection struct {
	Enabled     *bool
	Shields     []string
	Mode        *string
	Allowlist   []string
	MaxAttempts *int
}

// SuspiciousIPThrottling is attackProtection.suspiciousIpThrottling.
type SuspiciousIPThrottling struct {
	Enabled             *bool
	Shields             []string
	Allowlist           []string
	PreLogin            *ThrottleStage
	PreUserRegistration *ThrottleStage
}

// ThrottleStage is one stage of suspiciousIpThrottling.stage: a bucket of MaxAttempts, one
// attempt back every Rate milliseconds.
type ThrottleStage struct {
	MaxAttempts *int
	Rate        *int
}

// BreachedPasswordDetection is attackProtection.breachedPasswordDetection.
type BreachedPasswordDetection struct {
	Enabled *bool
	Shields []string
	Method  *string
}

func (d *tenantDecoder) attackProtection(n *yaml.Node, path string) *AttackProtection {
	ap := &AttackProtection{}
	d.object(n, path, fields{set: map[string]func(*yaml.Node, string){
		"bruteForceProtection": func(n *yaml.Node, p string) {
			if isNull(d.resolve(n)) {
				return
			}
			bf := &BruteForceProtection{}
			d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
				"enabled":      d.setBoolPtr(&bf.Enabled),
				"shields":      d.setStrings(&bf.Shields),
				"mode":         d.setStrPtr(&bf.Mode),
				"allowlist":    d.setStrings(&bf.Allowlist),
				"max_attempts": d.setIntPtr(&bf.MaxAttempts),
			}})
			ap.BruteForce = bf
		},
		"suspiciousIpThrottling": func(n *yaml.Node, p string) {
			if isNull(d.resolve(n)) {
				return
			}
			ip := &SuspiciousIPThrottling{}
			stage := func(dst **ThrottleStage) func(*yaml.Node, string) {
				return func(n *yaml.Node, p string) {
					if isNull(d.resolve(n)) {
						return
					}
					st := &ThrottleStage{}
					d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
						"max_attempts": d.setIntPtr(&st.MaxAttempts),
						"rate":         d.setIntPtr(&st.Rate),
					}})
					*dst = st
				}
			}
			d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
				"enabled":   d.setBoolPtr(&ip.Enabled),
				"shields":   d.setStrings(&ip.Shields),
				"allowlist": d.setStrings(&ip.Allowlist),
				"stage": func(n *yaml.Node, p string) {
					d.object(n, p, fields{set: map[string]func(*yaml.Node, string){
						"pre-login":             stage(&ip.PreLogin),
						"pre-user-registration": stage(&ip.PreUserRegistration),
					}})
				},
			}})
			ap.SuspiciousIP = ip
		},
		"breachedPasswordDetection": func(n *yaml.Node, p string) {
			if isNull(d.resolve(n)) {
				return
			}
			br := &BreachedPasswordDetection{}
			d.object(n, p, fields{
				set: map[string]func(*yaml.Node, string){
					"enabled": d.setBoolPtr(&br.Enabled),
					"shields": d.setStrings(&br.Shields),
					"method":  d.setStrPtr(&br.Method),
				},
				// Notifications are not sent by Sesame.
				ignored: []string{"admin_notification_frequency", "stage"},
			})
			ap.Breached = br
		},
	}})
	return ap
}
