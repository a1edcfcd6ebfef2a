// Package verifyweb is the public verification page that sealsvc serves at
// /verify (and at / to a browser): a reader drops a sealed PDF and sees
// whether it is validly sealed, 有效 or 无效, and each seal's details.
//
// The page runs the verifier in the browser: cmd/verifywasm, the same Go
// verifier as `sealctl verify` (package verify, through
// internal/webverify) compiled to WebAssembly. The document never leaves
// the reader's device; the page fetches only the county's trust bundle
// and its latest CRL, which are public (GET /v1/trust, /v1/crl), and,
// when it was opened from a sealed document's verification QR code
// (/VERIFY/R/<short>, which leads to /verify/?r=<short>; seal/verifyqr.go),
// the ledger's public record of that sealing (GET
// /v1/public/sealings/<short>, api/lookup.go), which it shows and compares
// with the SM3 of the file the reader drops. Only when
// the browser has no WebAssembly, and the reader asks for it, does the page
// send the file to POST /v1/verify, and it says so.
//
// Everything is embedded (assets/): the page, its script and style, and
// the Go toolchain's wasm_exec.js and the gzipped WebAssembly, which
// scripts/verifywasm.sh builds there before `make build` and `make test`
// (build outputs, not in git; without them the page offers the service's
// verification instead). GET
// /verify/offline.zip is the same page as a folder that works from
// file://, with the county root and the CRL of the moment bundled, for a
// county to publish anywhere.
package verifyweb
