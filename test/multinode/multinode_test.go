// Package multinode runs several `sesame serve` processes against one PostgreSQL database and
// checks what a load balancer in front of them relies on: any node continues any client's
// session, refresh-token rotation is atomic across nodes, admin changes reach every node
// within the documented bound, and killing a node loses no committed state. It needs
// SESAME_TEST_POSTGRES (a database the test may create schemas in) and skips without it.
package multinode

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to prepare and inspect the database

	"github.com/sesameauth/sesame/internal/token"
)

const (
	issuer       = "http://sesame.test/"
	clientID     = "multinode-client"
	clientSecret = "multinode-secret-0123456789abcdefghijklmnop"
	userEmail    = "mn@example.com"
	userPassword = "Correct-Horse-Battery-9"
	realm        = "Users"
)

const tenantFile = `tenant:
  friendly_name: Multinode
  default_directory: Users
  default_audience: https://api.multinode.test
resourceServers:
  - name: API
    identifier: https://api.multinode.test
    signing_alg: RS256
    allow_offline_access: true
clients:
  - name: MN App
    client_id: ` + clientID + `
    client_secret: ` + clientSecret + `
    app_type: non_interactive
    token_endpoint_auth_method: client_secret_post
    grant_types: [password, http://auth0.com/oauth/grant-type/password-realm, refresh_token]
    refresh_token:
      rotation_type: rotating
      expiration_type: expiring
      token_lifetime: 2592000
      idle_token_lifetime: 1296000
      leeway: 0
databases:
  - name: Users
    strategy: auth0
    enabled_clients: [MN App]
users:
`

// loadUsers is how many users login rotates over: Sesame limits logins of one user from one IP
// (20, then 10 a minute, as Auth0 does), and every node of this test sees the same loopback IP.
const loadUsers = 200

// tenantYAML is tenantFile with userEmail and the loadUsers users that login rotates over.
func tenantYAML() string {
	var b strings.Builder
	b.WriteString(tenantFile)
	for i := -1; i < loadUsers; i++ {
		email := userEmail
		if i >= 0 {
			email = loadUser(i)
		}
		fmt.Fprintf(&b, "  - connection: Users\n    email: %s\n    email_verified: true\n    password: %s\n", email, userPassword)
	}
	return b.String()
}

func loadUser(i int) string { return fmt.Sprintf("mn%03d@example.com", i) }

// nextUser spreads logins over the load users.
var nextUser atomic.Int64

// cluster is a prepared database and the built binary.
type cluster struct {
	bin, dsn, kekFile, dir string
	db                     *sql.DB
	env                    []string
}

// newCluster builds sesame, creates a fresh schema (dropped at the end), a KEK file, migrates
// and applies the tenant file.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	base := os.Getenv("SESAME_TEST_POSTGRES")
	if base == "" {
		t.Skip("SESAME_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/sesame_test?sslmode=disable): skipping the multi-node test")
	}
	ctx := t.Context()
	dir := t.TempDir()
	c := &cluster{bin: filepath.Join(dir, "sesame"), dir: dir, kekFile: filepath.Join(dir, "kek")}
	build := exec.CommandContext(ctx, "go", "build", "-o", c.bin, "./cmd/sesame")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building sesame: %v\n%s", err, out)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "mn_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	c.dsn = u.String()
	if c.db, err = sql.Open("pgx", c.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.db.Close() })
	kek := make([]byte, 32)
	rand.Read(kek)
	if err := os.WriteFile(c.kekFile, []byte(base64.StdEncoding.EncodeToString(kek)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SESAME_") {
			c.env = append(c.env, e)
		}
	}
	c.env = append(c.env, "SESAME_PASSWORD_HASH_MEMORY_KIB=64", "SESAME_PASSWORD_HASH_ITERATIONS=1")
	c.run(t, "", "migrate")
	tf := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(tf, []byte(tenantYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	c.run(t, "", "apply", "-f", tf)
	return c
}

// run runs a sesame command against the cluster's database and returns its output.
func (c *cluster) run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(args, "--db", c.dsn, "--kek-file", c.kekFile)...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sesame %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// node is one running `sesame serve`.
type node struct {
	name string
	base string
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs a node on a free loopback port and waits for /readyz.
func (c *cluster) start(t *testing.T, name string) *node { return c.startWith(t, name, c.dsn) }

// startWith runs a node whose database DSN is dsn.
func (c *cluster) startWith(t *testing.T, name, dsn string) *node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(c.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "serve", "--db", dsn, "--kek-file", c.kekFile, "--issuer", issuer,
		"--addr", addr, "--log-level", "warn")
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, base: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(n.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-n.done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(n.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case <-n.done:
			log, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
			t.Fatalf("node %s exited before it was ready:\n%s", name, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after 20s (last error %v)", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// post sends a form to a node's endpoint and returns the status and JSON body.
func (n *node) post(path string, form url.Values) (int, map[string]any, error) {
	resp, err := httpClient.PostForm(n.base+path, form)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if buf.Len() > 0 {
		if err := json.Unmarshal(buf.Bytes(), &body); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s: body %q: %w", n.name, path, buf.String(), err)
		}
	}
	return resp.StatusCode, body, nil
}

func login(n *node) (int, map[string]any, error) {
	return n.post("/oauth/token", url.Values{
		"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"}, "realm": {realm},
		"username": {loadUser(int(nextUser.Add(1) % loadUsers))}, "password": {userPassword}, "scope": {"openid offline_access"},
		"client_id": {clientID}, "client_secret": {clientSecret},
	})
}

func refresh(n *node, rt string) (int, map[string]any, error) {
	return n.post("/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}, "client_secret": {clientSecret},
	})
}

// mustToken asserts a 200 with a refresh token and returns it.
func mustToken(t *testing.T, step string, status int, body map[string]any, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	rt, _ := body["refresh_token"].(string)
	if status != http.StatusOK || rt == "" {
		t.Fatalf("%s: got %d %v, want 200 with a refresh_token", step, status, body)
	}
	return rt
}

func TestMultiNode(t *testing.T) {
	c := newCluster(t)
	nodes := []*node{c.start(t, "node1"), c.start(t, "node2"), c.start(t, "node3")}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	t.Run("session moves between nodes", func(t *testing.T) {
		s, b, err := login(n1)
		rt := mustToken(t, "login on node1", s, b, err)
		s, b, err = refresh(n2, rt)
		rt = mustToken(t, "refresh on node2", s, b, err)
		s, b, err = refresh(n3, rt)
		rt = mustToken(t, "refresh on node3", s, b, err)
		s, _, err = n1.post("/oauth/revoke", url.Values{"token": {rt}, "client_id": {clientID}, "client_secret": {clientSecret}})
		if err != nil || s != http.StatusOK {
			t.Fatalf("revoke on node1: got %d %v, want 200", s, err)
		}
		s, b, err = refresh(n2, rt)
		if err != nil || s != http.StatusForbidden || b["error"] != "invalid_grant" {
			t.Errorf("refresh of the revoked token on node2: got %d %v %v, want 403 invalid_grant", s, b, err)
		}
	})

	t.Run("concurrent double redeem across nodes", func(t *testing.T) {
		for i := range 10 {
			s, b, err := login(nodes[i%3])
			rt := mustToken(t, "login", s, b, err)
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for j, n := range []*node{nodes[i%3], nodes[(i+1)%3]} {
				wg.Go(func() { statuses[j], _, _ = refresh(n, rt) })
			}
			wg.Wait()
			ok := 0
			for _, s := range statuses {
				if s == http.StatusOK {
					ok++
				}
			}
			if ok != 1 {
				t.Errorf("round %d: got statuses %v, want exactly one 200", i, statuses)
			}
		}
	})

	t.Run("admin changes reach every node within 2s", func(t *testing.T) {
		const newID = "multinode-added"
		secret := "added-secret-0123456789abcdefghijklmnopqrs"
		// A bogus refresh token separates the two outcomes: a known client gets past client
		// authentication to 403 invalid_grant; an unknown one stops at 401.
		probe := func(n *node) int {
			s, _, _ := n.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"},
				"client_id": {newID}, "client_secret": {secret}})
			return s
		}
		waitAll := func(step string, want int) {
			t.Helper()
			deadline := time.Now().Add(2 * time.Second)
			for _, n := range nodes {
				for got := probe(n); got != want; got = probe(n) {
					if time.Now().After(deadline) {
						t.Fatalf("%s: %s still answers %d after 2s, want %d", step, n.name, got, want)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}
		waitAll("before create", http.StatusUnauthorized)
		c.run(t, secret+"\n", "clients", "create", "--name", "Added", "--client-id", newID, "--app-type", "non_interactive",
			"--grant-types", "password,refresh_token", "--secret-stdin")
		waitAll("after create", http.StatusForbidden)
		c.run(t, "", "clients", "delete", newID)
		waitAll("after delete", http.StatusUnauthorized)
	})

	t.Run("killing a node loses nothing", func(t *testing.T) {
		type result struct {
			node string
			err  string
		}
		var (
			mu      sync.Mutex
			issued  []string // refresh tokens answered with 200
			failed  []result
			wg      sync.WaitGroup
			stop    = time.Now().Add(3 * time.Second)
			victims = []*node{n1}
		)
		record := func(n *node, step string, s int, b map[string]any, err error) string {
			mu.Lock()
			defer mu.Unlock()
			rt, _ := b["refresh_token"].(string)
			if err != nil || s != http.StatusOK || rt == "" {
				failed = append(failed, result{n.name, fmt.Sprintf("%s: %d %v %v", step, s, b, err)})
				return ""
			}
			issued = append(issued, rt)
			return rt
		}
		for _, n := range []*node{n2, n3, n1} {
			wg.Go(func() {
				for k := 0; time.Now().Before(stop); k++ {
					s, b, err := login(n)
					rt := record(n, "login", s, b, err)
					if rt == "" {
						if n == n1 {
							time.Sleep(50 * time.Millisecond)
						}
						continue
					}
					for range 2 {
						s, b, err := refresh(n, rt)
						if rt = record(n, "refresh", s, b, err); rt == "" {
							break
						}
					}
				}
			})
		}
		time.Sleep(time.Second)
		for _, v := range victims {
			if err := v.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("killing %s: %v", v.name, err)
			}
		}
		wg.Wait()
		for _, f := range failed {
			if f.node != n1.name {
				t.Errorf("surviving node %s failed a request: %s", f.node, f.err)
			}
		}
		if len(issued) < 10 {
			t.Fatalf("got %d successful token responses under load, want at least 10", len(issued))
		}
		for _, rt := range issued {
			hash, ok := token.HashRefreshToken(rt)
			if !ok {
				t.Fatalf("refresh token %q does not parse", rt)
			}
			var n int
			if err := c.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM refresh_tokens WHERE hash = $1", hash).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("a refresh token answered with 200 is missing from the database (got %d rows, want 1)", n)
			}
		}
		t.Logf("%d token responses committed; %d failures, all on the killed node", len(issued), len(failed))
	})

	t.Run("database outage is 503 and heals without a restart", func(t *testing.T) {
		u, _ := url.Parse(c.dsn)
		p := newProxy(t, u.Host)
		u.Host = p.addr
		n4 := c.startWith(t, "node4", u.String())
		s, b, err := login(n4)
		mustToken(t, "login through the proxy", s, b, err)

		p.cut()
		resp, err := httpClient.PostForm(n4.base+"/oauth/token", url.Values{
			"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"}, "realm": {realm},
			"username": {userEmail}, "password": {userPassword}, "client_id": {clientID}, "client_secret": {clientSecret}})
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("token request while the database is unreachable: got %d %v Retry-After=%q, want 503 temporarily_unavailable with Retry-After",
				resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
		if r, err := http.Get(n4.base + "/readyz"); err != nil || r.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/readyz while the database is unreachable: got %v %v, want 503", r.StatusCode, err)
		} else {
			r.Body.Close()
		}
		s, b, err = login(n2)
		mustToken(t, "login on a node with its own connection", s, b, err)

		p.restore(t)
		deadline := time.Now().Add(5 * time.Second)
		for {
			s, b, err := login(n4)
			if err == nil && s == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node4 after the database came back: got %d %v %v, want 200 within 5s", s, b, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// proxy is a TCP forwarder the test can cut (refusing and dropping every connection, as a
// database outage does) and restore on the same address.
type proxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.restore(t)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = true, true
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				dst.Close()
				src.Close()
			}
			go pipe(in, out)
			go pipe(out, in)
		}
	}()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// tableStats is PostgreSQL's per-table activity counters for the cluster's schema.
type tableStats map[string][4]int64 // table → seq_scan+idx_scan, n_tup_ins, n_tup_upd, n_tup_del

func (c *cluster) stats(t *testing.T) (tableStats, int64) {
	t.Helper()
	ctx := t.Context()
	conn, err := c.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Idle backends flush their counters only every ten seconds, but always when they exit: end
	// the node's sessions (its pool reconnects, which the next requests also exercise).
	if _, err := conn.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = 'sesame-measured' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := conn.ExecContext(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT relname, COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0), n_tup_ins, n_tup_upd, n_tup_del
FROM pg_stat_user_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := tableStats{}
	for rows.Next() {
		var (
			name string
			v    [4]int64
		)
		if err := rows.Scan(&name, &v[0], &v[1], &v[2], &v[3]); err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	var commits int64
	if err := conn.QueryRowContext(ctx, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").Scan(&commits); err != nil {
		t.Fatal(err)
	}
	return out, commits
}

// TestMeasureDatabaseWork counts, per password login and per refresh, the table accesses,
// row writes and committed transactions PostgreSQL records (the figures of docs/deploy.md):
//
//	SESAME_TEST_POSTGRES=postgres://... go test ./test/multinode -run TestMeasureDatabaseWork -v
//
// Transactions are counted database-wide (run it on a quiet database); the others are counted
// in the test's own schema.
func TestMeasureDatabaseWork(t *testing.T) {
	c := newCluster(t)
	u, _ := url.Parse(c.dsn)
	q := u.Query()
	q.Set("application_name", "sesame-measured")
	u.RawQuery = q.Encode()
	n := c.startWith(t, "node1", u.String())
	const rounds = 100
	measure := func(name string, do func(i int)) {
		t.Helper()
		before, c0 := c.stats(t)
		for i := range rounds {
			do(i)
		}
		after, c1 := c.stats(t)
		var reads, writes int64
		var detail []string
		for table, a := range after {
			b := before[table]
			d := [4]int64{a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]}
			reads += d[0]
			writes += d[1] + d[2] + d[3]
			if d != [4]int64{} {
				detail = append(detail, fmt.Sprintf("%s scans=%.2f ins=%.2f upd=%.2f del=%.2f", table,
					float64(d[0])/rounds, float64(d[1])/rounds, float64(d[2])/rounds, float64(d[3])/rounds))
			}
		}
		if writes < rounds {
			t.Errorf("%s: got %d row writes for %d requests, want at least one each", name, writes, rounds)
		}
		t.Logf("per %s: %.2f table scans (statements reading), %.2f row writes, %.2f committed transactions\n  %s",
			name, float64(reads)/rounds, float64(writes)/rounds, float64(c1-c0)/rounds, strings.Join(detail, "\n  "))
	}
	tokens := make([]string, rounds)
	measure("password login", func(i int) {
		s, b, err := login(n)
		tokens[i] = mustToken(t, "login", s, b, err)
	})
	measure("refresh", func(i int) {
		s, b, err := refresh(n, tokens[i])
		mustToken(t, "refresh", s, b, err)
	})
}
