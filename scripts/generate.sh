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
  trap 'rm -rf "$dest"' EXIT
fi
out=$dest/seal/v1
mkdir -p "$out"
rm -f "$out"/*.pb.go "$out"/*.pb.gw.go "$out"/*.swagger.json
PATH="$bin:$PATH" protoc \
  -I proto -I /usr/include \
  --go_out=paths=source_relative:"$dest" \
  --go-grpc_out=paths=source_relative:"$dest" \
  --grpc-gateway_out=paths=source_relative,grpc_api_configuration=proto/seal/v1/gateway.yaml:"$dest" \
  --openapiv2_out="$dest" --openapiv2_opt=grpc_api_configuration=proto/seal/v1/gateway.yaml,allow_merge=true,merge_file_name=seal/v1/seal \
  proto/seal/v1/*.proto
if $check; then
  stale=0
  for f in "$out"/*.pb.go "$out"/*.pb.gw.go "$out"/seal.swagger.json; do
    if ! cmp -s "$f" "proto/seal/v1/$(basename "$f")"; then
      echo "generate: proto/seal/v1/$(basename "$f") is stale; run make generate" >&2
      stale=1
    fi
  done
  committed=$(ls proto/seal/v1 | grep -c -E '\.pb(\.gw)?\.go$|\.swagger\.json$')
  fresh=$(ls "$out" | grep -c -E '\.pb(\.gw)?\.go$|\.swagger\.json$')
  if [ "$committed" != "$fresh" ]; then
    echo "generate: proto/seal/v1 has $committed generated files, the .proto files make $fresh" >&2
    stale=1
  fi
  [ $stale -eq 0 ] && echo "generate: generated code is up to date"
  exit $stale
fi
echo "generate: wrote $(ls "$out" | grep -c -E '\.pb(\.gw)?\.go$') Go files and $out/seal.swagger.json"
