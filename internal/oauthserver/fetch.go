package oauthserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesameauth/sesame/internal/hooks"
)

// maxFetchRedirects is how many redirects one fetch() follows (browsers follow 20; an API
// an Action calls rarely needs more than one).
const maxFetchRedirects = 5

// ActionFetcher is the network access of the Actions' fetch() (hooks.Fetcher): requests go
// only to the hosts of its allowlist, over http or https, redirects are followed only to
// allowed hosts, the execution's context bounds each request and a response body over
// hooks.MaxFetchBody is refused.
//
// Hosts are matched by the name written in the URL, before DNS: allowing a name trusts
// whatever it resolves to.
type ActionFetcher struct {
	allow  []fetchHost
	client *http.Client
}

// fetchHost is one allowlist entry: an exact host name or IP address, or "*." and a domain
// (any name under it, not the domain itself); port "" allows any port.
type fetchHost struct {
	name     string
	wildcard bool
	port     string
}

// NewActionFetcher returns a fetcher for the listed hosts (entries of the server config's
// actions_fetch_allow: api.example.com, *.example.com, 10.0.0.5:8443, [::1]:9000).
func NewActionFetcher(hosts []string) (*ActionFetcher, error) {
	f := &ActionFetcher{}
	for _, h := range hosts {
		fh, err := parseFetchHost(h)
		if err != nil {
			return nil, err
		}
		f.allow = append(f.allow, fh)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	f.client = &http.Client{
		Transport: &http.Transport{
			// An egress proxy, when the environment names one, is the operator's choice; the
			// allowlist applies to the URL either way.
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxFetchRedirects {
				return fmt.Errorf("more than %d redirects", maxFetchRedirects)
			}
			return f.check(req.URL, "redirect to")
		},
	}
	return f, nil
}

func parseFetchHost(entry string) (fetchHost, error) {
	e := strings.ToLower(strings.TrimSpace(entry))
	bad := func(why string) (fetchHost, error) {
		return fetchHost{}, fmt.Errorf("actions fetch allowlist: %q %s", entry, why)
	}
	if e == "" || strings.ContainsAny(e, "/?#@ ") {
		return bad("is not a host name, host:port or *.domain")
	}
	var fh fetchHost
	host := e
	if h, p, err := net.SplitHostPort(e); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("has an invalid port")
		}
		host, fh.port = h, p
	} else if strings.HasPrefix(e, "[") || strings.Count(e, ":") == 1 {
		return bad("is not a host name, host:port or *.domain")
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		fh.wildcard, host = true, rest
	}
	if host == "" || strings.Contains(host, "*") {
		return bad("may use * only as its first label (*.example.com)")
	}
	fh.name = strings.Trim(host, "[]")
	return fh, nil
}

// check refuses a URL that is not http(s) or whose host is not allowed.
func (f *ActionFetcher) check(u *url.URL, what string) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s scheme %q is %w (http and https only)", what, u.Scheme, hooks.ErrFetchNotAllowed)
	}
	name, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, a := range f.allow {
		match := name == a.name
		if a.wildcard {
			match = strings.HasSuffix(name, "."+a.name)
		}
		if match && (a.port == "" || a.port == port) {
			return nil
		}
	}
	return fmt.Errorf("%s host %q is %w", what, u.Host, hooks.ErrFetchNotAllowed)
}

// Fetch performs one request.
func (f *ActionFetcher) Fetch(ctx context.Context, r hooks.FetchRequest) (*hooks.FetchResponse, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, err
	}
	if err := f.check(u, "request to"); err != nil {
		return nil, err
	}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "sesame-actions")
	for _, h := range r.Header {
		if strings.EqualFold(h[0], "User-Agent") {
			req.Header.Set(h[0], h[1]) // the code's own replaces ours
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already, or known to the code
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > hooks.MaxFetchBody {
		return nil, fmt.Errorf("response body of %d bytes is over the %d-byte limit", resp.ContentLength, hooks.MaxFetchBody)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, hooks.MaxFetchBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > hooks.MaxFetchBody {
		return nil, fmt.Errorf("response body is over the %d-byte limit", hooks.MaxFetchBody)
	}
	out := &hooks.FetchResponse{URL: resp.Request.URL.String(), Redirected: resp.Request.URL.String() != u.String(),
		Status: resp.StatusCode, StatusText: strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" "),
		Header: make(map[string][]string, len(resp.Header)), Body: b}
	for k, v := range resp.Header {
		out.Header[strings.ToLower(k)] = v
	}
	return out, nil
}
