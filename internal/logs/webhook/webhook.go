// Package webhook posts tenant log events to an HTTP collector (the log_stream webhook). It is
// the HTTP half of logs.Stream, kept apart so that package logs stays below the HTTP layer.
package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sesameauth/sesame/internal/logs"
)

// Poster POSTs batches of JSON lines to URL with Content-Type application/x-ndjson.
type Poster struct {
	URL string
	// Client sends the requests; nil means one with a 10 s timeout.
	Client *http.Client
}

var _ logs.Poster = Poster{}

// Post sends one batch; any status but 2xx is an error.
func (p Poster) Post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("log webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	c := p.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("log webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("log webhook answered %s", resp.Status)
	}
	return nil
}
