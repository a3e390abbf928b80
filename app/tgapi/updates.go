package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// GetUpdates long-polls for updates after offset, waiting up to timeout. It returns the
// raw updates for the caller to decode.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"offset": offset, "timeout": int(timeout.Seconds()), "allowed_updates": []string{"message"}})
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/bot"+c.token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", c.redact(err, "getUpdates"))
	}
	req.Header.Set("Content-Type", "application/json")
	// The poll outlives the client's usual timeout, so it uses a client of its own.
	hc := *c.hc
	hc.Timeout = timeout + 15*time.Second
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", c.redact(err, "getUpdates"))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", c.redact(err, "getUpdates"))
	}
	var r struct {
		OK          bool              `json:"ok"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Result      []json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &APIError{Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
	}
	if !r.OK {
		return nil, &APIError{Code: r.ErrorCode, Description: clip(r.Description, 200)}
	}
	return r.Result, nil
}
