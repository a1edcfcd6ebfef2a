#!/usr/bin/env bash
# verifywasm.sh builds the public verification page's verifier
# (cmd/verifywasm, GOOS=js GOARCH=wasm) into verifyweb/assets/verify.wasm.gz
# and copies the Go toolchain's own wasm_exec.js beside it, so that the
# page and its verifier are embedded in sealsvc by `go build` alone, on a
# fresh clone, without a WebAssembly build step.
#
#   scripts/verifywasm.sh          rebuild both
#   scripts/verifywasm.sh --check  fail if the committed ones differ from
#                                  what this source and toolchain build
#
# The build is reproducible: -trimpath, no VCS stamp, the toolchain and
# modules that go.mod pins. The check compares the uncompressed WebAssembly
# (so gzip's version does not matter) and wasm_exec.js byte for byte.
# After a change to verify/ or anything it imports, run it and commit
# verifyweb/assets/verify.wasm.gz with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
check=false
[ "${1:-}" = "--check" ] && check=true

dest=verifyweb/assets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

GOOS=js GOARCH=wasm "$GO" build -trimpath -buildvcs=false -ldflags='-s -w' -o "$tmp/verify.wasm" ./cmd/verifywasm
cp "$("$GO" env GOROOT)/lib/wasm/wasm_exec.js" "$tmp/wasm_exec.js"

if $check; then
  ok=true
  if ! gzip -dc "$dest/verify.wasm.gz" 2>/dev/null | cmp -s - "$tmp/verify.wasm"; then
    echo "verifywasm: $dest/verify.wasm.gz is not what cmd/verifywasm builds now; run scripts/verifywasm.sh and commit it" >&2
    ok=false
  fi
  if ! cmp -s "$dest/wasm_exec.js" "$tmp/wasm_exec.js"; then
    echo "verifywasm: $dest/wasm_exec.js is not this Go toolchain's; run scripts/verifywasm.sh and commit it" >&2
    ok=false
  fi
  $ok
  exit
fi

gzip -9n -c "$tmp/verify.wasm" > "$tmp/verify.wasm.gz"
mv "$tmp/verify.wasm.gz" "$dest/verify.wasm.gz"
mv "$tmp/wasm_exec.js" "$dest/wasm_exec.js"
echo "verifywasm: $dest/verify.wasm.gz $(stat -c %s "$tmp/verify.wasm") bytes, $(stat -c %s "$dest/verify.wasm.gz") gzipped" >&2
