package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ronganxian/eseal/outbox"
	"github.com/ronganxian/eseal/seal"
)

// RunSubscriptions checks that a subscription comes back as it was
// stored, through every read of the store (one subscription, the list, a
// change of state, a lease taken), from a second handle on the same
// database as a second replica reads it; above all its batch size, which
// decides whether its receiver gets one event a request or a batch. A
// negative batch size is refused by the database itself.
func RunSubscriptions(t *testing.T, open Opener) {
	ctx := context.Background()
	s, other := open.Open(t)
	w, ok := s.(outbox.Store)
	if !ok {
		t.Fatalf("%T keeps no subscriptions", s)
	}
	r, ok := other.(outbox.Store)
	if !ok {
		t.Fatalf("%T keeps no subscriptions", other)
	}
	created := time.Date(2026, 12, 4, 10, 30, 0, 123000, time.UTC)
	cases := []struct {
		name string
		sub  outbox.Subscription
	}{
		{"default, one event a request", outbox.Subscription{ID: "gx-platform", Endpoint: "https://platform.example/events",
			Auth: outbox.AuthBearer, Credential: []byte("sealed token")}},
		{"one, said outright", outbox.Subscription{ID: "minzheng", Endpoint: "https://mz.example/events", Batch: 1,
			Filter: seal.RecordFilter{Domains: []string{"民政"}}}},
		{"the smallest batch", outbox.Subscription{ID: "nongye", Endpoint: "https://ny.example/events", Batch: 2,
			Filter: seal.RecordFilter{Township: "450224100", Domains: []string{"农业农村", "林业"}}}},
		{"a hundred", outbox.Subscription{ID: "archive", Endpoint: "http://127.0.0.1:9900/", Batch: 100,
			ServerCA: []byte("-----BEGIN CERTIFICATE-----")}},
		{"the largest", outbox.Subscription{ID: "bulk", Endpoint: "https://bulk.example/", Batch: outbox.MaxBatch,
			Auth: outbox.AuthMTLS, Credential: []byte("sealed key"), ClientCert: []byte("-----BEGIN CERTIFICATE-----")}},
	}
	for i := range cases {
		c := &cases[i].sub
		if c.Auth == "" {
			c.Auth = outbox.AuthNone
		}
		c.State, c.Generation, c.Cursor, c.Created, c.CreatedBy = outbox.Active, 1, uint64(i), created, "admin"
		stored := *c
		if err := w.CreateSubscription(ctx, &stored); err != nil {
			t.Fatalf("%s: CreateSubscription: %v", cases[i].name, err)
		}
	}
	same := func(t *testing.T, what string, got *outbox.Subscription, want outbox.Subscription) {
		t.Helper()
		if got.Batch != want.Batch {
			t.Errorf("%s %s: batch %d, want %d", what, want.ID, got.Batch, want.Batch)
		}
		g := *got
		g.LeaseOwner, g.LeaseUntil, g.State, g.Generation = "", time.Time{}, want.State, want.Generation
		for _, b := range []*[]byte{&g.Credential, &g.ClientCert, &g.ServerCA} {
			if len(*b) == 0 {
				*b = nil
			}
		}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", what, want.ID, g, want)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Subscription(ctx, c.sub.ID)
			if err != nil {
				t.Fatal(err)
			}
			same(t, "Subscription", got, c.sub)
			if got, err = w.SetSubscriptionState(ctx, c.sub.ID, outbox.Paused, nil); err != nil {
				t.Fatal(err)
			} else if got.State != outbox.Paused {
				t.Errorf("paused, the state is %s", got.State)
			}
			same(t, "SetSubscriptionState", got, c.sub)
			if _, err = w.SetSubscriptionState(ctx, c.sub.ID, outbox.Active, nil); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			got, leased, err := r.AcquireLease(ctx, c.sub.ID, "replica-b", now, now.Add(time.Minute))
			if err != nil || !leased {
				t.Fatalf("AcquireLease: %v, %v", leased, err)
			}
			same(t, "AcquireLease", got, c.sub)
		})
	}
	all, err := r.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*outbox.Subscription{}
	for _, s := range all {
		byID[s.ID] = s
	}
	if len(all) != len(cases) || len(byID) != len(cases) {
		t.Fatalf("Subscriptions: %d, want %d", len(all), len(cases))
	}
	for _, c := range cases {
		if got, ok := byID[c.sub.ID]; !ok {
			t.Errorf("Subscriptions lacks %s", c.sub.ID)
		} else {
			same(t, "Subscriptions", got, c.sub)
		}
	}
	bad := outbox.Subscription{ID: "negative", Endpoint: "https://x.example/", Auth: outbox.AuthNone, Batch: -1,
		State: outbox.Active, Generation: 1, Created: created}
	if err := w.CreateSubscription(ctx, &bad); err == nil {
		t.Error("the database stored a batch of -1")
	}
	if _, err := r.Subscription(ctx, bad.ID); err == nil {
		t.Errorf("subscription %s is readable after its insert failed", bad.ID)
	}
}

// LegacySubscriptionRow inserts a subscription as the table held it before
// its batch column (SQLite migration 13, PostgreSQL 16), for the dialects'
// migration tests: both run it on a database migrated up to just before,
// migrate, and check the row with CheckLegacySubscription.
const LegacySubscriptionRow = `INSERT INTO subscriptions (id, endpoint, township_code, domains, auth_kind, state,
	generation, cursor, failures, last_error, delivered, last_delivered_us, lease_owner, lease_until_us, created_us, created_by)
	VALUES ('gx-platform', 'https://platform.example/events', '', '[]', 'none', 'active', 3, 41, 0, '', 41, 0, '', 0, 0, 'admin')`

// CheckLegacySubscription checks that LegacySubscriptionRow's subscription
// came through the migration with batch 0, one event a request, which is
// what it was sent before, and its cursor and generation as they were.
func CheckLegacySubscription(t *testing.T, st outbox.Store) {
	t.Helper()
	sub, err := st.Subscription(context.Background(), "gx-platform")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Batch != 0 || sub.Cursor != 41 || sub.Generation != 3 {
		t.Errorf("after the migration: batch %d, cursor %d, generation %d; want 0, 41, 3", sub.Batch, sub.Cursor, sub.Generation)
	}
}
