# The project's commands. `make test` is what CI runs (.ci/run).
GO       ?= go
FUZZTIME ?= 1m
BENCHTIME ?= 1s

.PHONY: all build wasm demo test deps lint bench fuzz generate check-generated clean

all: build

build: wasm
	$(GO) build ./...
	$(GO) build -o bin/ ./cmd/sealsvc ./cmd/sealctl

## demo: start the demo service, seal and verify a sample decision.
demo: wasm
	@scripts/demo.sh

deps:
	@scripts/install-deps.sh

## wasm: build the verification page's WebAssembly (verifyweb/assets), which
## sealsvc embeds; a build output, not kept in git.
wasm:
	@GO=$(GO) scripts/verifywasm.sh

## RACE_PKGS are the packages with goroutines, locks or state shared
## between concurrent sealings (pdf: one SealImage for every document, the
## buffer pools): their tests run under the race detector, which takes
## about 3 times as long. Every other package runs without it, so that no
## package is tested twice.
RACE_PKGS = ./api/ ./cli/ ./keystore/... ./outbox/ ./pdf/ ./seal/... ./service/ ./store/...

## TEST_TIMEOUT bounds one package's tests. pdf's, under the race
## detector, render in three viewers and seal every file of testdata/: on
## a busy 2-core machine they have taken more than go test's default 10m.
TEST_TIMEOUT ?= 30m

## test: every test, after installing the system tools they need, and a
## check that the generated API code matches the .proto files and the
## verification page's WebAssembly matches its Go source.
test: deps wasm lint check-generated
	@set -e; \
	  race=$$($(GO) list $(RACE_PKGS)); \
	  plain=$$($(GO) list ./... | grep -vxF "$$race"); \
	  echo "$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -race $(RACE_PKGS)"; \
	  $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -race $$race; \
	  echo "$(GO) test -count=1 -timeout $(TEST_TIMEOUT) (the other packages)"; \
	  $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$plain

## generate: regenerate the gRPC, gateway and OpenAPI code from proto/.
generate:
	@scripts/generate.sh

check-generated:
	@scripts/generate.sh --check

## lint: gofmt, go vet, staticcheck and deadcode must be clean. staticcheck
## and deadcode are pinned in go.mod (go tool); scripts/deadcode.sh fails
## on any unreachable function its allow-list does not name with a reason.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@GO=$(GO) scripts/deadcode.sh

## bench: the benchmarks, each beside its peer, in one run.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: each fuzz target for FUZZTIME.
FUZZ_TARGETS = ./seal/cms:FuzzParse ./seal/cms:FuzzVerify ./pdf:FuzzReader ./pdf:FuzzSeal ./verify:FuzzVerifyPDF ./archive:FuzzVerify
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	done

clean:
	$(GO) clean -testcache
