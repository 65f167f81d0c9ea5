// Package deploy holds Sesame's packaging (container image, systemd unit, Helm chart, Grafana
// dashboard). Its tests check what can be checked without a cluster: systemd-analyze verify on
// the unit, helm lint and helm template with the rendered manifests parsed (and the rendered
// sesame.yaml validated by Sesame's own config parser), and the image built from scratch with
// buildah or podman when the machine can.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sesameauth/sesame/internal/config"
)

// TestSystemdUnit verifies the unit with systemd-analyze (with ExecStart pointing at an
// executable that exists here) and that it keeps its hardening.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("systemd", "sesame.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=sesame", "NoNewPrivileges=yes",
		"ExecStartPre=/usr/local/bin/sesame migrate", "ExecReload=/bin/kill -HUP $MAINPID", "CapabilityBoundingSet=\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("sesame.service lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: install systemd to verify deploy/systemd/sesame.service")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sesame.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/sesame", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// Unknown keys are only warnings to systemd: any output at all is a failure here.
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// helm finds the helm binary: on PATH, or where go install puts it.
func helm(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for _, dir := range []string{strings.TrimSpace(lines[0]), filepath.Join(strings.TrimSpace(lines[len(lines)-1]), "bin")} {
			if p := filepath.Join(dir, "helm"); dir != "" && fileExists(p) {
				return p
			}
		}
	}
	t.Skip("helm not found: GOFLAGS= go install helm.sh/helm/v3/cmd/helm@v3.22.1 (as .ci/run does)")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// render runs helm template with extra --set values and parses every document.
func render(t *testing.T, bin string, set ...string) []map[string]any {
	t.Helper()
	args := []string{"template", "rel", filepath.Join("helm", "sesame")}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered manifests do not parse: %v\n%s", err, out)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// dig walks nested maps and lists (string keys, int indexes).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func byKind(docs []map[string]any, kind string) map[string]any {
	for _, d := range docs {
		if d["kind"] == kind {
			return d
		}
	}
	return nil
}

// TestHelmChart lints the chart, renders it, and checks what the issue asks of it: the KEK and
// DSN from a Secret, a migrate Job hook, readiness on /readyz, a PDB, an HPA, a ServiceMonitor
// when asked, a locked-down pod, and a sesame.yaml that Sesame itself accepts.
func TestHelmChart(t *testing.T) {
	bin := helm(t)
	if out, err := exec.Command(bin, "lint", "--strict", filepath.Join("helm", "sesame")).CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	docs := render(t, bin, "metrics.serviceMonitor.enabled=true")
	var kinds []string
	for _, d := range docs {
		kinds = append(kinds, d["kind"].(string))
	}
	for _, want := range []string{"ConfigMap", "Service", "Deployment", "Job", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("rendered kinds %v lack %s", kinds, want)
		}
	}
	dep := byKind(docs, "Deployment")
	ctr := dig(dep, "spec", "template", "spec", "containers", 0)
	if got := dig(ctr, "readinessProbe", "httpGet", "path"); got != "/readyz" {
		t.Errorf("readiness probe path = %v, want /readyz", got)
	}
	if got := dig(ctr, "securityContext", "readOnlyRootFilesystem"); got != true {
		t.Errorf("readOnlyRootFilesystem = %v", got)
	}
	if got := dig(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot"); got != true {
		t.Errorf("runAsNonRoot = %v", got)
	}
	env := map[string]any{}
	for _, e := range dig(ctr, "env").([]any) {
		env[dig(e, "name").(string)] = e
	}
	for _, name := range []string{"SESAME_KEK", "SESAME_DB"} {
		if dig(env[name], "valueFrom", "secretKeyRef", "name") != "sesame" {
			t.Errorf("%s is not taken from the Secret: %v", name, env[name])
		}
	}
	job := byKind(docs, "Job")
	if got := dig(job, "metadata", "annotations", "helm.sh/hook"); got != "pre-install,pre-upgrade" {
		t.Errorf("migrate Job hook = %v", got)
	}
	if got := dig(job, "spec", "template", "spec", "containers", 0, "args", 0); got != "migrate" {
		t.Errorf("migrate Job runs %v", got)
	}
	sel := dig(byKind(docs, "Service"), "spec", "selector").(map[string]any)
	if jobLabels := dig(job, "spec", "template", "metadata", "labels").(map[string]any); matches(sel, jobLabels) {
		t.Errorf("the Service selector %v also selects the migrate Job's pod %v", sel, jobLabels)
	}
	if got := dig(byKind(docs, "ServiceMonitor"), "spec", "endpoints", 0, "port"); got != "metrics" {
		t.Errorf("ServiceMonitor port = %v", got)
	}

	// The rendered sesame.yaml is a config Sesame accepts (strict keys), given what the
	// Secret supplies.
	file, _ := dig(byKind(docs, "ConfigMap"), "data", "sesame.yaml").(string)
	cfg, err := config.ParseServer([]byte(file))
	if err != nil {
		t.Fatalf("rendered sesame.yaml: %v\n%s", err, file)
	}
	cfg.DB, cfg.KEK = "postgres://sesame@db:5432/sesame", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Errorf("rendered sesame.yaml does not validate: %v\n%s", err, file)
	}
	if cfg.MetricsAddr == "" || cfg.ShutdownDelaySeconds == 0 {
		t.Errorf("rendered config: metrics_addr %q, shutdown_delay_seconds %d", cfg.MetricsAddr, cfg.ShutdownDelaySeconds)
	}

	// Without autoscaling the Deployment has replicas and there is no HPA.
	docs = render(t, bin, "autoscaling.enabled=false", "replicaCount=3")
	if byKind(docs, "HorizontalPodAutoscaler") != nil || dig(byKind(docs, "Deployment"), "spec", "replicas") != 3 {
		t.Error("autoscaling.enabled=false: want replicas 3 and no HPA")
	}
	// The issuer is required.
	if out, err := exec.Command(bin, "template", "rel", filepath.Join("helm", "sesame"), "--set", "issuer=").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "issuer is required") {
		t.Errorf("helm template without issuer: %v %s", err, out)
	}
}

func matches(selector, labels map[string]any) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestContainerImage checks the Containerfile, then builds it FROM scratch with buildah or
// podman (vfs storage, no registry: deploy/container/build.sh) and inspects the image: non-root
// user, /data volume, health check, and a binary that runs in it.
func TestContainerImage(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("container", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM scratch", "USER 65532:65532", `VOLUME ["/data"]`, "HEALTHCHECK", `ENTRYPOINT ["/sesame"]`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("Containerfile lacks %q", want)
		}
	}
	builder, err := exec.LookPath("buildah")
	if err != nil {
		t.Skip("buildah not found: apt-get install buildah to build deploy/container/Containerfile (podman or docker also work with build.sh, by hand)")
	}
	if testing.Short() {
		t.Skip("-short: not building the image")
	}
	tag := "localhost/sesame:deploy-test"
	store := []string{"--storage-driver", "vfs"}
	build := exec.Command(filepath.Join("container", "build.sh"), tag)
	build.Env = append(os.Environ(), "BUILDAH_STORAGE_DRIVER=vfs", "SESAME_IMAGE_BUILDER=buildah")
	if out, err := build.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "operation not permitted") || strings.Contains(string(out), "user namespaces") {
			t.Skipf("buildah cannot build on this machine: %s", lastLine(out))
		}
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(builder, append(store, "rmi", "-f", tag)...).Run() })
	out, err := exec.Command(builder, append(store, "inspect", "--type", "image", tag)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	var img struct {
		Docker struct {
			Config struct {
				User        string
				Volumes     map[string]any
				Entrypoint  []string
				Healthcheck *struct{ Test []string }
			} `json:"config"`
		}
	}
	if err := json.Unmarshal(out, &img); err != nil {
		t.Fatal(err)
	}
	c := img.Docker.Config
	if c.User != "65532:65532" || c.Volumes["/data"] == nil || c.Healthcheck == nil || !slices.Contains(c.Healthcheck.Test, "healthcheck") ||
		!slices.Equal(c.Entrypoint, []string{"/sesame"}) {
		t.Errorf("image config: %+v", c)
	}
	// The static binary runs in the empty image: its health check reaches for a server that is
	// not there and says so.
	ctr, err := exec.Command(builder, append(store, "from", tag)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSpace(string(ctr))
	t.Cleanup(func() { _ = exec.Command(builder, append(store, "rm", name)...).Run() })
	run, _ := exec.Command(builder, append(store, "run", "--isolation", "chroot", name, "--", "/sesame", "healthcheck",
		"--url", "http://127.0.0.1:1/healthz")...).CombinedOutput()
	if !strings.Contains(string(run), "connection refused") {
		if strings.Contains(string(run), "operation not permitted") {
			t.Skipf("buildah cannot run a container here: %s", lastLine(run))
		}
		t.Errorf("running /sesame healthcheck in the image: %s", run)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
