#!/usr/bin/env bash
# verifywasm.sh builds the public verification page's verifier
# (cmd/verifywasm, GOOS=js GOARCH=wasm) into verifyweb/assets/verify.wasm.gz
# and copies the Go toolchain's own wasm_exec.js beside it, where
# verifyweb embeds them. Both are build outputs, not kept in git: `make
# build`, `make demo` and `make test` run this first. A sealsvc built
# without it serves the page without its WebAssembly, and the page offers
# the service's verification instead, saying so.
#
# The build is reproducible: -trimpath, no VCS stamp, the toolchain and
# modules that go.mod pins.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

dest=verifyweb/assets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

GOOS=js GOARCH=wasm "$GO" build -trimpath -buildvcs=false -ldflags='-s -w' -o "$tmp/verify.wasm" ./cmd/verifywasm
cp "$("$GO" env GOROOT)/lib/wasm/wasm_exec.js" "$tmp/wasm_exec.js"

gzip -9n -c "$tmp/verify.wasm" > "$tmp/verify.wasm.gz"
mv "$tmp/verify.wasm.gz" "$dest/verify.wasm.gz"
mv "$tmp/wasm_exec.js" "$dest/wasm_exec.js"
echo "verifywasm: $dest/verify.wasm.gz $(stat -c %s "$tmp/verify.wasm") bytes, $(stat -c %s "$dest/verify.wasm.gz") gzipped" >&2
