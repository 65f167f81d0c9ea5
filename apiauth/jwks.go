package apiauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds the JWKS document read from the issuer.
const maxJWKSBytes = 1 << 20

// errRefreshLimited is what a refresh reports when MinRefreshInterval has not passed since the
// previous fetch.
var errRefreshLimited = errors.New("apiauth: JWKS refetch rate limited")

// keyCache holds the issuer's signing keys (RFC 7517 §5). One fetch runs at a time and every
// caller that needs it waits for that one (single flight); fetches start at most once per
// minRefresh; a failed fetch leaves the cached keys in use.
type keyCache struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time

	mu        sync.Mutex
	keys      []jose.JSONWebKey // nil until a fetch succeeds
	fetched   time.Time         // when keys were last fetched successfully
	attempted time.Time         // when the last fetch started
	lastErr   error             // the last fetch's error, nil after a success
	inflight  *fetchCall
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// find returns the key for a token with key id kid and algorithm alg, refetching the JWKS
// when the cache is stale or does not know kid and the rate limit allows.
func (c *keyCache) find(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	c.mu.Lock()
	if c.keys != nil && c.now().Sub(c.fetched) < c.ttl {
		if k := pick(c.keys, kid, alg); k != nil {
			c.mu.Unlock()
			return k, nil
		}
	}
	c.mu.Unlock()

	err := c.refresh(ctx, false)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, ctxErr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if k := pick(c.keys, kid, alg); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
}

// pick chooses the key for kid. A token without kid gets the one key that fits its
// algorithm, if there is exactly one.
func pick(keys []jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) *jose.JSONWebKey {
	var found *jose.JSONWebKey
	for i := range keys {
		k := &keys[i]
		if kid != "" {
			if k.KeyID != kid {
				continue
			}
			// Several keys may share a kid (one per algorithm); prefer the one that fits.
			if found == nil || keyFits(k, alg) == nil {
				found = k
			}
			continue
		}
		if keyFits(k, alg) == nil {
			if found != nil {
				return nil
			}
			found = k
		}
	}
	return found
}

// refresh fetches the JWKS unless a fetch is running (then it waits for that one) or, unless
// force is set, one started less than minRefresh ago. It returns that fetch's error.
func (c *keyCache) refresh(ctx context.Context, force bool) error {
	c.mu.Lock()
	call := c.inflight
	if call == nil {
		if !force && !c.attempted.IsZero() && c.now().Sub(c.attempted) < c.minRefresh {
			err := c.lastErr
			c.mu.Unlock()
			if err == nil {
				err = errRefreshLimited
			}
			return err
		}
		call = &fetchCall{done: make(chan struct{})}
		c.inflight = call
		c.attempted = c.now()
		// The fetch outlives the request that started it: the others waiting for it must not
		// fail because the first caller went away.
		go c.fetchInto(context.WithoutCancel(ctx), call)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *keyCache) fetchInto(ctx context.Context, call *fetchCall) {
	ctx, cancel := context.WithTimeout(ctx, defaultHTTPTimeout)
	defer cancel()
	keys, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		c.keys = keys
		c.fetched = c.now()
	}
	c.lastErr = err
	c.inflight = nil
	c.mu.Unlock()
	call.err = err
	close(call.done)
}

// fetch GETs the JWKS and keeps the public signing keys it can use; keys it cannot parse (an
// unknown kty or curve) are skipped so that one odd key does not hide the others.
func (c *keyCache) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("apiauth: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("apiauth: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("apiauth: fetching JWKS %s: status %d", c.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("apiauth: reading JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("apiauth: JWKS %s is larger than %d bytes", c.url, maxJWKSBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("apiauth: JWKS %s is not a JWK set: %w", c.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		// RFC 7517 §4.2: a key whose use is not "sig" is not for verifying signatures.
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		case *rsa.PrivateKey:
			k.Key = &pk.PublicKey
		case *ecdsa.PrivateKey:
			k.Key = &pk.PublicKey
		case ed25519.PrivateKey:
			k.Key = pk.Public().(ed25519.PublicKey)
		default:
			// Symmetric ("oct") keys are never taken from a JWKS: see Config.HMACSecret.
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("apiauth: JWKS %s has no usable signing keys", c.url)
	}
	return keys, nil
}
