package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Report is a run's result with what surrounds it: the server's resource use and the crypto
// floor with the efficiency it implies. Its JSON form is `sesame bench --json`.
type Report struct {
	Result
	ElapsedSeconds  float64      `json:"elapsed_s"`
	ThroughputRPS   float64      `json:"throughput_rps"`
	TransportErrors int          `json:"transport_errors"`
	Server          *ServerStats `json:"server,omitempty"`
	Floor           *FloorReport `json:"floor,omitempty"`
	// Efficiency is throughput ÷ (cores ÷ crypto cost per request); see Floor.Efficiency.
	Efficiency *float64 `json:"efficiency,omitempty"`
}

// ServerStats is the server process's resource use during the run.
type ServerStats struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// CoresBusy is CPUSeconds over the run's elapsed time.
	CoresBusy  float64 `json:"cores_busy"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// CPUPerRequestMS is the server's CPU time per successful request: unlike throughput, it
	// does not depend on how much of the machine other processes took.
	CPUPerRequestMS float64 `json:"cpu_ms_per_request"`
	// PeakIsRun is false when VmHWM could not be reset before the run: the peak is then the
	// process's lifetime peak.
	PeakIsRun bool `json:"peak_is_run"`
}

// FloorReport is the floor in milliseconds with the run's cost formula.
type FloorReport struct {
	Cores          int    `json:"cores"`
	HashMemoryKiB  uint32 `json:"hash_memory_kib"`
	HashIterations uint32 `json:"hash_iterations"`
	Formula        string `json:"formula"`
	FloorFigures
	// CPUEfficiency is the crypto cost per request over the server's CPU time per request:
	// the share of the server's own work that was unavoidable crypto (noise-robust).
	CPUEfficiency float64 `json:"cpu_efficiency,omitempty"`
	// P99OverHash is the latency p99 in single-hash times (password scenarios).
	P99OverHash float64 `json:"p99_over_hash,omitempty"`
	// AllCores is the floor measured with every core doing the crypto at once.
	AllCores *AllCoresReport `json:"all_cores,omitempty"`
}

// FloorFigures are a floor's operations in milliseconds, the run's crypto cost per request
// and the ceiling it gives.
type FloorFigures struct {
	HashMS     float64            `json:"hash_ms"`
	SignMS     map[string]float64 `json:"sign_ms"`
	VerifyMS   map[string]float64 `json:"verify_ms"`
	CostMS     float64            `json:"cost_per_request_ms"`
	CeilingRPS float64            `json:"ceiling_rps"`
}

// AllCoresReport is Floor.AllCores in milliseconds, with the ceiling and efficiency it gives.
type AllCoresReport struct {
	FloorFigures
	// Scaling is how many times one core's crypto (for this run's requests) all the cores
	// together did: the core count where cores scale linearly.
	Scaling float64 `json:"scaling"`
	// Efficiency is throughput ÷ CeilingRPS.
	Efficiency float64 `json:"efficiency"`
}

// ServerStatsOf turns the /proc samples taken before and after a run into its statistics.
func ServerStatsOf(pid int, before, after ProcSample, elapsed time.Duration, peakReset bool) *ServerStats {
	cpu := (after.CPU - before.CPU).Seconds()
	s := &ServerStats{PID: pid, CPUSeconds: cpu, PeakRSSMiB: float64(after.PeakRSSKiB) / 1024, PeakIsRun: peakReset}
	if elapsed > 0 {
		s.CoresBusy = cpu / elapsed.Seconds()
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// figuresOf converts a floor's durations; the cost and ceiling are the caller's to fill in.
func figuresOf(f *Floor) FloorFigures {
	return FloorFigures{HashMS: ms(f.Hash), SignMS: msMap(f.Sign), VerifyMS: msMap(f.Verify)}
}

func msMap(m map[string]time.Duration) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, d := range m {
		out[k] = ms(d)
	}
	return out
}

// NewReport assembles a report; floor and srv may be nil.
func NewReport(r *Result, floor *Floor, apiAlg, scope string, srv *ServerStats) Report {
	rep := Report{Result: *r, ElapsedSeconds: r.Elapsed.Seconds(), ThroughputRPS: r.Throughput(),
		TransportErrors: r.TransportErrors(), Server: srv}
	if srv != nil && r.Successes > 0 {
		srv.CPUPerRequestMS = srv.CPUSeconds * 1000 / float64(r.Successes)
	}
	if floor == nil {
		return rep
	}
	id := idTokenIn(scope)
	fr := &FloorReport{Cores: floor.Cores, HashMemoryKiB: floor.HashParams.MemoryKiB, HashIterations: floor.HashParams.Iterations,
		Formula: Formula(r.Scenario, apiAlg, id), FloorFigures: figuresOf(floor)}
	eff, ceiling := floor.Efficiency(r, apiAlg, id)
	if all := floor.AllCores; all != nil {
		if allEff, allCeiling := all.Efficiency(r, apiAlg, id); allCeiling > 0 && ceiling > 0 {
			a := &AllCoresReport{FloorFigures: figuresOf(all), Scaling: float64(floor.Cores) * allCeiling / ceiling, Efficiency: allEff}
			a.CostMS, a.CeilingRPS = float64(all.Cores)*1000/allCeiling, allCeiling
			fr.AllCores = a
		}
	}
	if ceiling > 0 {
		fr.CeilingRPS = ceiling
		fr.CostMS = float64(floor.Cores) * 1000 / ceiling
		rep.Efficiency = &eff
	} else {
		fr.CostMS = ms(floor.Cost(r.Scenario, apiAlg, id))
	}
	if srv != nil && srv.CPUPerRequestMS > 0 && rep.Efficiency != nil {
		fr.CPUEfficiency = fr.CostMS / srv.CPUPerRequestMS
	}
	if (r.Scenario == KindPassword || r.Scenario == KindRealm) && floor.Hash > 0 {
		fr.P99OverHash = r.Latency.P99 / ms(floor.Hash)
	}
	rep.Floor = fr
	return rep
}

// WriteText prints the report for a terminal.
func (rep Report) WriteText(w io.Writer) {
	r := rep.Result
	mode := fmt.Sprintf("concurrency %d", r.Concurrency)
	if r.Mode == "rate" {
		mode = fmt.Sprintf("rate %g/s (at most %d in flight)", r.Rate, r.Concurrency)
	}
	fmt.Fprintf(w, "scenario     %s, %s, %.2fs\n", r.Scenario, mode, rep.ElapsedSeconds)
	fmt.Fprintf(w, "requests     %d (%d ok", r.Requests, r.Successes)
	for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
		if len(r.Kinds) > 1 {
			fmt.Fprintf(w, ", %s %d", k, r.Kinds[k])
		}
	}
	fmt.Fprintf(w, "), dropped %d, re-logins %d\n", r.Dropped, r.Relogins)
	fmt.Fprintf(w, "throughput   %.1f req/s\n", rep.ThroughputRPS)
	fmt.Fprintf(w, "latency ms   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f\n",
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Latency.Mean)
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors       none")
	} else {
		fmt.Fprint(w, "errors      ")
		for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
			fmt.Fprintf(w, " %s=%d", k, r.Errors[k])
		}
		fmt.Fprintln(w)
	}
	if s := rep.Server; s != nil {
		peak := "run peak"
		if !s.PeakIsRun {
			peak = "lifetime peak"
		}
		fmt.Fprintf(w, "server       pid %d: %.2f CPU s (%.2f cores busy, %.3f ms per ok request), RSS %s %.1f MiB\n",
			s.PID, s.CPUSeconds, s.CoresBusy, s.CPUPerRequestMS, peak, s.PeakRSSMiB)
	}
	if f := rep.Floor; f != nil {
		fmt.Fprintf(w, "floor        %d cores; argon2id m=%d t=%d verify %.2f ms; sign ms RS256 %.3f ES256 %.3f EdDSA %.3f HS256 %.4f\n",
			f.Cores, f.HashMemoryKiB, f.HashIterations, f.HashMS, f.SignMS["RS256"], f.SignMS["ES256"], f.SignMS["EdDSA"], f.SignMS["HS256"])
		fmt.Fprintf(w, "cost/request %.3f ms = %s\n", f.CostMS, f.Formula)
		if rep.Efficiency != nil {
			fmt.Fprintf(w, "efficiency   %.3f = %.1f req/s ÷ (%d cores ÷ %.3f ms); ceiling %.1f req/s\n",
				*rep.Efficiency, rep.ThroughputRPS, f.Cores, f.CostMS, f.CeilingRPS)
		}
		if a := f.AllCores; a != nil {
			fmt.Fprintf(w, "all cores    argon2id verify %.2f ms; sign ms RS256 %.3f ES256 %.3f EdDSA %.3f HS256 %.4f (core time per operation, every core at it)\n",
				a.HashMS, a.SignMS["RS256"], a.SignMS["ES256"], a.SignMS["EdDSA"], a.SignMS["HS256"])
			fmt.Fprintf(w, "eff. (all)   %.3f = %.1f req/s ÷ (%d cores ÷ %.3f ms); ceiling %.1f req/s: the %d cores do %.2f× one core's crypto\n",
				a.Efficiency, rep.ThroughputRPS, f.Cores, a.CostMS, a.CeilingRPS, f.Cores, a.Scaling)
		}
		if f.CPUEfficiency > 0 {
			fmt.Fprintf(w, "cpu eff.     %.3f = %.3f ms crypto ÷ %.3f ms server CPU per request\n", f.CPUEfficiency, f.CostMS, rep.Server.CPUPerRequestMS)
		}
		if f.P99OverHash > 0 {
			fmt.Fprintf(w, "p99/hash     %.2f single-hash times\n", f.P99OverHash)
		}
	}
}
