package sealapi

import "testing"

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:1", true},
		{"127.8.9.10:1", true},
		{"localhost:1", true},
		{"[::1]:1", true},
		{"0.0.0.0:1", false},
		{":1", false},
		{"[::]:1", false},
		{"10.0.0.1:1", false},
		{"example.org:1", false},
		{"127.0.0.1", false}, // no port: not an address we can judge
	} {
		if got := IsLoopback(tc.addr); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
