#!/usr/bin/env bash
# generate.sh regenerates the committed gRPC, gateway and OpenAPI code from
# proto/. The protoc plugins are built from the versions pinned in go.mod's
# tool directives; protoc itself and the well-known types come from Debian
# (protobuf-compiler, libprotobuf-dev), installed here when missing.
#
#   scripts/generate.sh          regenerate in place
#   scripts/generate.sh --check  fail if the committed code differs from what
#                                the .proto files generate (make test runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
[ "${1:-}" = "--check" ] && check=true

if ! command -v protoc >/dev/null 2>&1 || [ ! -f /usr/include/google/protobuf/timestamp.proto ]; then
  echo "generate: installing protobuf-compiler and libprotobuf-dev from Debian" >&2
  [ "$(id -u)" -eq 0 ] || { echo "generate: need root to apt-get install protoc" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends protobuf-compiler libprotobuf-dev >/dev/null
fi

bin="$PWD/bin/protoc-plugins"
mkdir -p "$bin"
GOBIN="$bin" go install \
  google.golang.org/protobuf/cmd/protoc-gen-go \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2

dest=proto
if $check; then
  dest=$(mktemp -d)
fi
# The messages and gRPC stubs go into package sealv1, which clients import.
# The REST gateway goes into its own package, sealgw (standalone mode, with
# its package clause renamed), so that a client does not pull in the
# gateway's runtime.
out=$dest/seal/v1
gwtmp=$(mktemp -d)
trap 'rm -rf "$gwtmp"; $check && rm -rf "$dest"' EXIT
mkdir -p "$out" "$out/sealgw"
rm -f "$out"/*.pb.go "$out"/sealgw/*.pb.gw.go "$out"/*.swagger.json
PATH="$bin:$PATH" protoc \
  -I proto -I /usr/include \
  --go_out=paths=source_relative:"$dest" \
  --go-grpc_out=paths=source_relative:"$dest" \
  --grpc-gateway_out=paths=source_relative,standalone=true,grpc_api_configuration=proto/seal/v1/gateway.yaml:"$gwtmp" \
  --openapiv2_out="$dest" --openapiv2_opt=grpc_api_configuration=proto/seal/v1/gateway.yaml,allow_merge=true,merge_file_name=seal/v1/seal \
  proto/seal/v1/*.proto
for f in "$gwtmp"/seal/v1/*.pb.gw.go; do
  sed 's/^package sealv1$/package sealgw/' "$f" >"$out/sealgw/$(basename "$f")"
done
generated() { (cd "$1" && ls *.pb.go sealgw/*.pb.gw.go seal.swagger.json 2>/dev/null); }
if $check; then
  stale=0
  for f in $(generated "$out"); do
    if ! cmp -s "$out/$f" "proto/seal/v1/$f"; then
      echo "generate: proto/seal/v1/$f is stale; run make generate" >&2
      stale=1
    fi
  done
  if [ "$(generated proto/seal/v1)" != "$(generated "$out")" ]; then
    echo "generate: proto/seal/v1 has other generated files than the .proto files make" >&2
    stale=1
  fi
  [ $stale -eq 0 ] && echo "generate: generated code is up to date"
  exit $stale
fi
echo "generate: wrote $(generated "$out" | grep -c '\.go$') Go files and $out/seal.swagger.json"
