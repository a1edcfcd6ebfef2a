package sealapi

import "net"

// IsLoopback reports whether addr (host:port) is on loopback only: the
// one place where the service listens, and sealctl dials, without TLS. An
// empty host means every interface, which is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
