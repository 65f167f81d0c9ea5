package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// pool keeps open connections for reuse, so that a login costs its LDAP round trips and not a
// TCP and TLS handshake each. A connection is used by one request at a time (a bind changes
// who it speaks for); at most size are open at once, and a request waits for one within its
// deadline.
type pool struct {
	idle  chan *goldap.Conn
	slots chan struct{}
	// prepare runs on a fresh connection before first use (the service account's bind).
	prepare func(c *goldap.Conn) error
	dial    func(ctx context.Context) (*goldap.Conn, error)
	// closed: connections given back after close are closed, not kept (a directory replaced
	// because its settings changed may still be serving requests that started before).
	closed atomic.Bool
}

func newPool(size int, dial func(ctx context.Context) (*goldap.Conn, error), prepare func(*goldap.Conn) error) *pool {
	return &pool{idle: make(chan *goldap.Conn, size), slots: make(chan struct{}, size), dial: dial, prepare: prepare}
}

// get returns a connection and whether it was reused (a reused one may have died since).
func (p *pool) get(ctx context.Context) (*goldap.Conn, bool, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	for {
		select {
		case c := <-p.idle:
			if c.IsClosing() {
				c.Close()
				continue
			}
			return c, true, nil
		default:
		}
		break
	}
	c, err := p.dial(ctx)
	if err == nil && p.prepare != nil {
		setTimeout(ctx, c)
		if err = p.prepare(c); err != nil {
			c.Close()
		}
	}
	if err != nil {
		<-p.slots
		return nil, false, err
	}
	return c, false, nil
}

// put gives a connection back; a connection in an unknown state (a network error, a timeout)
// is closed instead.
func (p *pool) put(c *goldap.Conn, healthy bool) {
	if healthy && !c.IsClosing() && !p.closed.Load() {
		select {
		case p.idle <- c:
		default:
			c.Close()
		}
	} else {
		c.Close()
	}
	<-p.slots
}

// close closes the idle connections, and those given back later.
func (p *pool) close() {
	p.closed.Store(true)
	p.drain()
}

// drain closes the idle connections: after one turned out dead (the directory restarted),
// the others most likely are too.
func (p *pool) drain() {
	for {
		select {
		case c := <-p.idle:
			c.Close()
		default:
			return
		}
	}
}

// errNoDeadline guards against a request without a deadline: every directory call is bounded.
var errNoDeadline = errors.New("ldap: request without a deadline")

// setTimeout bounds the connection's next requests by ctx's deadline (go-ldap answers a
// request that outlives it with a timeout error instead of waiting for the server).
func setTimeout(ctx context.Context, c *goldap.Conn) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetTimeout(max(time.Until(dl), time.Millisecond))
	}
}

// dialer returns the function that opens a connection: TCP, then TLS (ldaps) or StartTLS,
// all within ctx's deadline.
func dialer(cfg Config) (func(ctx context.Context) (*goldap.Conn, error), error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.URL.Hostname()}
	if cfg.CAPEM != nil {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(cfg.CAPEM) {
			return nil, errors.New("ldap_ca holds no usable certificate")
		}
		tc.RootCAs = roots
	}
	host := cfg.URL.Host
	if cfg.URL.Port() == "" {
		port := "389"
		if cfg.URL.Scheme == "ldaps" {
			port = "636"
		}
		host = net.JoinHostPort(cfg.URL.Hostname(), port)
	}
	return func(ctx context.Context) (*goldap.Conn, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return nil, errNoDeadline
		}
		var d net.Dialer
		raw, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", host, err)
		}
		// The deadline covers the handshakes; it is lifted once the connection is ready, after
		// which every request carries its own timeout.
		_ = raw.SetDeadline(dl)
		conn := raw
		isTLS := cfg.URL.Scheme == "ldaps"
		if isTLS {
			tlsConn := tls.Client(raw, tc)
			if err := tlsConn.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, fmt.Errorf("TLS handshake with %s: %w", host, err)
			}
			conn = tlsConn
		}
		c := goldap.NewConn(conn, isTLS)
		c.Start()
		if cfg.StartTLS {
			setTimeout(ctx, c)
			if err := c.StartTLS(tc); err != nil {
				c.Close()
				return nil, fmt.Errorf("StartTLS with %s: %w", host, err)
			}
		}
		_ = raw.SetDeadline(time.Time{})
		return c, nil
	}, nil
}
