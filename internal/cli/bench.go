package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/loadgen"
	"github.com/sesameauth/sesame/internal/password"
	"github.com/sesameauth/sesame/internal/server"
)

// benchFlags are sesame bench's own flags.
type benchFlags struct {
	url, scenario, rate, scope                   string
	concurrency, requests                        int
	duration, timeout                            time.Duration
	clientID, clientSecret, audience, realm, alg string
	usersFile                                    string
	setup                                        bool
	users, seedTokens                            int
	serverPID, procs                             int
	hashMemory, hashIterations                   uint32
	noFloor                                      bool
}

func newBenchCmd(a *app) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench --url URL --scenario password|realm|refresh|assertion|userinfo|mixed",
		Short: "Load a running server and report throughput, latency, errors and efficiency",
		Long: `Load a running Sesame server with one scenario and report requests/s, latency percentiles,
errors by OAuth error code, the server's CPU time and peak RSS (when it is a local process), and
the efficiency: throughput ÷ (cores ÷ crypto cost per request), with the crypto cost measured on
this machine (one argon2id verification with --hash-memory-kib/--hash-iterations, one signature
per algorithm). See docs/performance.md.

The tenant comes either from --client-id, --client-secret, --audience and --users-file (lines of
username:password), or from --setup, which creates a fresh API, clients, connection and --users
users directly in the database named by --db (the server's; it becomes the tenant's default
directory). Every run is bounded by --duration and, if given, --requests.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.bench(cmd, f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "http://"+config.DefaultAddr+"/", "the server's base URL")
	fs.StringVar(&f.scenario, "scenario", "password", "password, realm, refresh, assertion, userinfo or mixed")
	fs.IntVar(&f.concurrency, "concurrency", 8, "workers (closed loop), or the in-flight cap with --rate")
	fs.StringVar(&f.rate, "rate", "", "fixed request rate, e.g. 200/s (default: closed loop at --concurrency)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "length of the measured phase (at most 1h)")
	fs.IntVar(&f.requests, "requests", 0, "stop after this many measured requests (0: only --duration)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "timeout of one request")
	fs.StringVar(&f.scope, "scope", "", "scope sent with logins (default openid profile email, plus offline_access where refresh tokens are needed)")
	fs.StringVar(&f.clientID, "client-id", "", "confidential client to use (without --setup)")
	fs.StringVar(&f.clientSecret, "client-secret", "", "its secret")
	fs.StringVar(&f.audience, "audience", "", "API identifier to ask tokens for")
	fs.StringVar(&f.realm, "realm", "", "connection name for the realm scenario")
	fs.StringVar(&f.alg, "alg", "RS256", "the API's signing algorithm (created so with --setup; used in the cost formula)")
	fs.StringVar(&f.usersFile, "users-file", "", "file of username:password lines")
	fs.BoolVar(&f.setup, "setup", false, "create the bench tenant objects in the database (--db) first")
	fs.IntVar(&f.users, "users", 1000, "users to create with --setup (all share one password hash)")
	fs.IntVar(&f.seedTokens, "seed-refresh-tokens", 0, "with --setup, also store this many refresh tokens of a seed client")
	fs.IntVar(&f.procs, "procs", 0, "processors the load tool itself runs on during the run (its GOMAXPROCS; 0: all). 1 leaves the other cores to a server on the same machine")
	fs.IntVar(&f.serverPID, "server-pid", 0, "server process to sample (default: the local process listening on the URL's port)")
	fs.Uint32Var(&f.hashMemory, "hash-memory-kib", 0, "the server's argon2id memory (default: the server config's, 19456)")
	fs.Uint32Var(&f.hashIterations, "hash-iterations", 0, "the server's argon2id iterations (default: the server config's, 2)")
	fs.BoolVar(&f.noFloor, "no-floor", false, "skip measuring the crypto floor (no efficiency)")
	return cmd
}

func (a *app) bench(cmd *cobra.Command, f benchFlags) error {
	ctx := cmd.Context()
	cfg, err := a.resolveServerConfig(cmd)
	if err != nil {
		return err
	}
	rate, err := parseRate(f.rate)
	if err != nil {
		return err
	}
	if f.procs < 0 {
		return fmt.Errorf("--procs %d: want a number of processors, or 0 for all", f.procs)
	}
	target := loadgen.Target{URL: f.url, ClientID: f.clientID, ClientSecret: f.clientSecret, Audience: f.audience,
		Realm: f.realm, APIAlg: f.alg}
	if f.setup {
		b, err := a.openBackendWith(cmd, cfg, cfg.MigrateOnStart())
		if err != nil {
			return err
		}
		start := time.Now()
		target, err = loadgen.Setup(ctx, b.svc, b.store, loadgen.SetupOptions{URL: f.url, Users: f.users,
			SigningAlg: f.alg, SeedRefreshTokens: f.seedTokens})
		b.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "sesame bench: set up client %s, API %s, connection %s, %d users, %d seeded refresh tokens in %s\n",
			target.ClientID, target.Audience, target.Realm, len(target.Users), f.seedTokens, time.Since(start).Round(time.Millisecond))
		// A running server sees another process's writes within its cache TTL (1 s).
		if err := loadgen.AwaitTarget(ctx, target, 5*time.Second); err != nil {
			return err
		}
	} else if f.usersFile != "" {
		if target.Users, err = readUsersFile(f.usersFile); err != nil {
			return err
		}
	}

	var floor *loadgen.Floor
	if !f.noFloor {
		p := password.Params{MemoryKiB: cfg.PasswordHashMemoryKiB, Iterations: cfg.PasswordHashIterations, Parallelism: 1}
		if f.hashMemory != 0 {
			p.MemoryKiB = f.hashMemory
		}
		if f.hashIterations != 0 {
			p.Iterations = f.hashIterations
		}
		fl, err := measureFloor(ctx, p)
		if err != nil {
			return fmt.Errorf("measuring the crypto floor: %w", err)
		}
		floor = &fl
	}

	pid := f.serverPID
	if pid == 0 {
		pid = localServerPID(f.url)
	}
	// The server is sampled around the measured phase only (after the warm-up logins).
	var before, after loadgen.ProcSample
	var sampleErr error
	peakReset := false
	opts := loadgen.Options{Scenario: f.scenario, Concurrency: f.concurrency, Rate: rate, Duration: f.duration,
		MaxRequests: f.requests, Timeout: f.timeout, Scope: f.scope}
	if pid > 0 {
		opts.Measuring = func(start bool) {
			if start {
				peakReset = loadgen.ResetPeakRSS(pid) == nil
				before, sampleErr = loadgen.SampleProc(pid)
			} else if sampleErr == nil {
				after, sampleErr = loadgen.SampleProc(pid)
			}
		}
	}
	if f.procs > 0 {
		// After the floor, which is measured on every core.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(f.procs))
	}
	res, err := loadgen.Run(ctx, target, opts)
	if err != nil {
		return err
	}
	var srv *loadgen.ServerStats
	if pid > 0 && sampleErr == nil {
		srv = loadgen.ServerStatsOf(pid, before, after, res.Elapsed, peakReset)
	}
	scope := f.scope
	if scope == "" {
		scope = "openid"
	}
	rep := loadgen.NewReport(res, floor, target.APIAlg, scope, srv)
	if a.flags.json {
		return printJSON(cmd.OutOrStdout(), rep)
	}
	rep.WriteText(cmd.OutOrStdout())
	return nil
}

// parseRate reads "200/s", "200" or "12000/m".
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	num, unit, _ := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--rate %q: want a positive number per second, e.g. 200/s", s)
	}
	switch unit {
	case "", "s":
		return n, nil
	case "m":
		return n / 60, nil
	}
	return 0, fmt.Errorf("--rate %q: the unit is /s or /m", s)
}

// readUsersFile reads username:password lines; blank lines and # comments are skipped.
func readUsersFile(path string) ([]loadgen.Credential, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	defer file.Close()
	var out []loadgen.Credential
	sc := bufio.NewScanner(file)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, p, ok := strings.Cut(line, ":")
		if !ok || u == "" {
			return nil, fmt.Errorf("users file %s:%d: want username:password", path, n)
		}
		out = append(out, loadgen.Credential{Username: u, Password: p})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("users file: no users")
	}
	return out, nil
}

// localServerPID finds the process listening on the URL's port when the host is loopback;
// 0 when there is none or it is not local.
func localServerPID(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		if u.Scheme == "https" {
			port = 443
		} else {
			port = 80
		}
	}
	pid, err := loadgen.FindListener(port)
	if err != nil {
		return 0
	}
	return pid
}

// measureFloor measures the crypto floor with the hasher and signing keys server.OpenCore
// builds, as serve does, over a throw-away in-memory database.
func measureFloor(ctx context.Context, p password.Params) (loadgen.Floor, error) {
	core, err := server.OpenScratchCore(ctx, p, runtime.GOMAXPROCS(0))
	if err != nil {
		return loadgen.Floor{}, err
	}
	defer core.Store.Close()
	defer core.LegacyDBs.Close()
	return loadgen.MeasureFloor(ctx, core.Hasher, core.Keys, 0)
}
