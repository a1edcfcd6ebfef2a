// Package sealgw is the REST mapping of the seal.v1 services
// (grpc-gateway, generated from gateway.yaml by scripts/generate.sh). Only
// the server imports it, so that clients of package sealv1 do not pull in
// the gateway's runtime.
package sealgw
