package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ronganxian/eseal/seal"
)

// The public lookup of a sealing by its verification QR code's short form
// (seal/verifyqr.go):
//
//	GET /v1/public/sealings/{short}
//
// without authentication, limited per client address (a token bucket: Rate
// requests a second, Burst at once; beyond them 429 with Retry-After). It
// answers the ledger's sealed records whose input SM3 begins with the
// short form's 100 bits, oldest first, at most MaxResults of them
// (truncated says there were more), as
//
//	{"short": "M3D7…", "sealings": [{
//	  "seq": 42,                       ledger sequence number
//	  "time": "2026-12-04T01:02:03Z",  when the ledger recorded it (RFC 3339, UTC)
//	  "townshipCode": "450224100", "townshipName": "长安镇",
//	  "itemCode": "…", "itemName": "…",
//	  "result": "sealed",
//	  "inputSm3": "…", "outputSm3": "…"  hex, of the document as received and as sealed
//	}], "truncated": false}
//
// and exactly these fields: never the case number, the principal, the
// request id, the window, the document kind, the seal or certificate, the
// rule or the record's detail, which may name a person. Only sealed
// records are found; refusals, supervision results and lifecycle records
// never are. A short form that finds nothing is 404 {"error": "no such
// sealing"}; one that is not 20 base32 characters is 400.

// LookupConfig bounds the public lookup.
type LookupConfig struct {
	// Rate is how many lookups a client address may make a second, on
	// average (default 1); Burst how many at once (default 10).
	Rate  float64
	Burst int
	// MaxResults bounds the sealings one answer lists (default 10).
	MaxResults int
	// TrustForwardedFor takes the client's address from the last
	// X-Forwarded-For entry, the one a reverse proxy in front of the
	// service adds; without it the client is the TCP peer, and behind a
	// proxy every reader would share the proxy's bucket. Set it only when
	// the proxy is the only way in.
	TrustForwardedFor bool
	// Now is the limiter's clock (default time.Now).
	Now func() time.Time
}

// InputLookup finds sealed records by the short form of their input's SM3
// (sqlstore.Store.SealedByInputPrefix).
type InputLookup interface {
	SealedByInputPrefix(ctx context.Context, prefix []byte, limit int) ([]*seal.Record, error)
}

// PublicSealing is one sealing as the public lookup shows it: its public
// fields only.
type PublicSealing struct {
	Seq          uint64 `json:"seq"`
	Time         string `json:"time"`
	TownshipCode string `json:"townshipCode"`
	TownshipName string `json:"townshipName"`
	ItemCode     string `json:"itemCode"`
	ItemName     string `json:"itemName"`
	Result       string `json:"result"`
	InputSM3     string `json:"inputSm3"`
	OutputSM3    string `json:"outputSm3"`
}

// PublicLookup is the public lookup's answer.
type PublicLookup struct {
	Short     string          `json:"short"`
	Sealings  []PublicSealing `json:"sealings"`
	Truncated bool            `json:"truncated"`
}

// publicSealing keeps r's public fields, with the names of its township
// and item from the registry (empty when the registry cannot say).
func publicSealing(ctx context.Context, reg seal.Registry, r *seal.Record) PublicSealing {
	p := PublicSealing{Seq: r.Seq, Time: r.Time.UTC().Format(time.RFC3339), TownshipCode: r.Township, ItemCode: r.Item,
		Result: string(r.Result), InputSM3: hex.EncodeToString(r.InputSM3), OutputSM3: hex.EncodeToString(r.OutputSM3)}
	if reg != nil {
		if t, err := reg.Township(ctx, r.Township); err == nil {
			p.TownshipName = t.Name
		}
		if it, err := reg.Item(ctx, r.Item); err == nil {
			p.ItemName = it.Name
		}
	}
	return p
}

// lookupHandler serves GET /v1/public/sealings/{short}.
type lookupHandler struct {
	cfg    LookupConfig
	lookup InputLookup // nil: the store cannot look up; every lookup is 404
	reg    seal.Registry
	limit  *clientLimiter
	log    interface{ Error(string, ...any) }
}

func newLookupHandler(cfg LookupConfig, lookup InputLookup, reg seal.Registry, log interface{ Error(string, ...any) }) *lookupHandler {
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 10
	}
	if cfg.MaxResults <= 0 {
		cfg.MaxResults = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &lookupHandler{cfg: cfg, lookup: lookup, reg: reg, log: log,
		limit: newClientLimiter(cfg.Rate, cfg.Burst, maxLimitedClients, cfg.Now)}
}

func (h *lookupHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	if wait, ok := h.limit.allow(h.client(r)); !ok {
		hd.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeJSONError(w, http.StatusTooManyRequests, "too many lookups from this address; try again later")
		return
	}
	short := r.PathValue("short")
	prefix, err := seal.ParseShortForm(short)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if h.lookup == nil {
		writeJSONError(w, http.StatusNotFound, "no such sealing")
		return
	}
	recs, err := h.lookup.SealedByInputPrefix(r.Context(), prefix, h.cfg.MaxResults+1)
	if err != nil {
		h.log.Error("public lookup", "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the ledger cannot be read now")
		return
	}
	if len(recs) == 0 {
		writeJSONError(w, http.StatusNotFound, "no such sealing")
		return
	}
	out := PublicLookup{Short: strings.ToUpper(short), Sealings: []PublicSealing{}}
	if len(recs) > h.cfg.MaxResults {
		recs, out.Truncated = recs[:h.cfg.MaxResults], true
	}
	for _, rec := range recs {
		if rec.Result != seal.ResultSealed { // the store finds only these; never show another
			continue
		}
		out.Sealings = append(out.Sealings, publicSealing(r.Context(), h.reg, rec))
	}
	json.NewEncoder(w).Encode(out)
}

// client is the address r's lookups are counted under: the TCP peer, or
// with TrustForwardedFor the last X-Forwarded-For entry; an IPv6 address
// by its /64, which one client commonly holds whole.
func (h *lookupHandler) client(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if h.cfg.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				addr = last
			}
		}
	}
	if ip := net.ParseIP(addr); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return addr
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// maxLimitedClients bounds the buckets the limiter keeps; beyond it, the
// clients it cannot keep apart share one bucket.
const maxLimitedClients = 10000

// clientLimiter is a token bucket per client: each holds up to burst
// tokens, refilled at rate a second; a request takes one.
type clientLimiter struct {
	rate  float64
	burst float64
	max   int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// overflowClient is the bucket clients share when the limiter is full.
const overflowClient = "\x00overflow"

func newClientLimiter(rate float64, burst, max int, now func() time.Time) *clientLimiter {
	return &clientLimiter{rate: rate, burst: float64(burst), max: max, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from client's bucket; when there is none it returns
// how long until there is.
func (l *clientLimiter) allow(client string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[client]
	if !ok {
		// One place is kept for the overflow bucket.
		if len(l.buckets) >= l.max-1 {
			l.sweep(now)
		}
		if len(l.buckets) >= l.max-1 {
			client = overflowClient
			b = l.buckets[client]
		}
		if b == nil {
			b = &bucket{tokens: l.burst, at: now}
			l.buckets[client] = b
		}
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// sweep drops the buckets that have refilled: their clients start again
// as new ones, with a full bucket, which is the same.
func (l *clientLimiter) sweep(now time.Time) {
	for c, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, c)
		}
	}
}
