package tsa

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// DefaultMaxRequestBytes bounds a request body when the configuration
// names no bound. A TimeStampReq with a SHA-512 imprint, a policy and a
// nonce is under 200 bytes.
const DefaultMaxRequestBytes = 4096

// Handler serves RFC 3161 over HTTP (section 3.4): a POST of
// application/timestamp-query answered with application/timestamp-reply.
// A request it cannot read is still answered with a TimeStampResp that
// rejects it, as the RFC asks; only a wrong method, media type or an
// oversized body gets a plain HTTP error.
type Handler struct {
	Authority *Authority
	// MaxRequestBytes bounds the body; DefaultMaxRequestBytes when zero.
	MaxRequestBytes int64
	// Log receives one line per rejection (never the request's bytes); nil
	// logs nothing.
	Log *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tsa: POST an application/timestamp-query", http.StatusMethodNotAllowed)
		return
	}
	if ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]); !strings.EqualFold(ct, "application/timestamp-query") {
		http.Error(w, "tsa: content type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	limit := h.MaxRequestBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, fmt.Sprintf("tsa: request larger than %d bytes (tsa_max_request_bytes)", limit), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "tsa: reading the request failed", http.StatusBadRequest)
		return
	}
	resp, f := h.Authority.Respond(r.Context(), body)
	if f != nil && h.Log != nil {
		h.Log.Info("tsa: request rejected", "fail_info", f.Info.String(), "reason", f.Message)
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}
