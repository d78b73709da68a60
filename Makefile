# webperm's build, test and demo targets. `make test` runs exactly what CI runs.
GO          ?= go
BIN         := bin/webperm
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test vet fmt-check tidy-check staticcheck unit demo golden bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/webperm

test: vet fmt-check tidy-check staticcheck unit

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check:
	$(GO) mod tidy -diff

staticcheck:
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 ./...

# demo builds webperm, makes the broken demo site in a temporary directory and audits it. The
# findings are the point, so the audit's exit status 1 is not a failure here.
demo: build
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; chmod 0755 "$$dir"; \
	$(GO) run ./internal/cmd/mkfixture testdata/demo/site.manifest "$$dir/site"; \
	if [ "$$(id -u)" -eq 0 ]; then sysroot=testdata/demo; else sysroot=/; fi; \
	status=0; ./$(BIN) audit --root "$$sysroot" "$$dir/site" || status=$$?; \
	if [ $$status -gt 1 ]; then exit $$status; fi

# golden rewrites the golden reports under testdata/ from the current code; review the diff.
golden:
	$(GO) test ./cmd/webperm -run Golden -update

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./audit/...
	scripts/bench.sh $(BIN)

# fuzz runs each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParseOctalMode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParseMode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzParsePasswd$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzParseGroup$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/fixture -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./fixer -run '^$$' -fuzz '^FuzzReadJournal$$' -fuzztime $(FUZZTIME)
	$(GO) test ./fixer -run '^$$' -fuzz '^FuzzReadJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./fixer -run '^$$' -fuzz '^FuzzReadScript$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
