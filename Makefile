# webperm's build, test and demo targets. `make test` runs exactly what CI runs.
GO          ?= go
BIN         := bin/webperm
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# The version and commit webperm version prints. Without tags git describe gives the commit;
# without git both are empty and webperm falls back to what the go command recorded.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# Where make install puts webperm; DESTDIR is prepended to each, for packaging.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
GENERATED   := bin/share

.PHONY: all build install uninstall test vet fmt-check tidy-check staticcheck unit demo golden bench fuzz clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/webperm

# install puts the binary, its bash, zsh and fish completions and its manual page, webperm(1),
# in place; the built binary writes the completions and the page, so they match its commands.
install: build
	@mkdir -p $(GENERATED)
	$(BIN) completion bash > $(GENERATED)/webperm.bash
	$(BIN) completion zsh > $(GENERATED)/_webperm
	$(BIN) completion fish > $(GENERATED)/webperm.fish
	$(BIN) man > $(GENERATED)/webperm.1
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)" "$(DESTDIR)$(FISHCOMPDIR)"
	install -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/webperm"
	install -m 0644 $(GENERATED)/webperm.1 "$(DESTDIR)$(MANDIR)/man1/webperm.1"
	install -m 0644 $(GENERATED)/webperm.bash "$(DESTDIR)$(BASHCOMPDIR)/webperm"
	install -m 0644 $(GENERATED)/_webperm "$(DESTDIR)$(ZSHCOMPDIR)/_webperm"
	install -m 0644 $(GENERATED)/webperm.fish "$(DESTDIR)$(FISHCOMPDIR)/webperm.fish"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/webperm" "$(DESTDIR)$(MANDIR)/man1/webperm.1" "$(DESTDIR)$(BASHCOMPDIR)/webperm" \
		"$(DESTDIR)$(ZSHCOMPDIR)/_webperm" "$(DESTDIR)$(FISHCOMPDIR)/webperm.fish"

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

# bench runs the Go benchmarks, then times webperm beside find on generated trees of 100k and 1M
# entries (scripts/bench.sh: SIZES, VARIANTS, OPEN, RUNS, SEED and TMPDIR; a 1M tree takes
# 366 MiB of disk, one tree at a time, and the whole run about 20 minutes). It needs GNU time
# (apt-get install time); make test does not.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./audit/...
	$(GO) build -o bin/gentree ./internal/cmd/gentree
	scripts/bench.sh $(BIN) bin/gentree

# fuzz runs each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParseOctalMode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParseMode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzMatcher$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/access -run '^$$' -fuzz '^FuzzParsePasswd$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/access -run '^$$' -fuzz '^FuzzParseGroup$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/walk -run '^$$' -fuzz '^FuzzParseCapabilities$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/access -run '^$$' -fuzz '^FuzzParseACL$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/fixture -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./fixer -run '^$$' -fuzz '^FuzzReadJournal$$' -fuzztime $(FUZZTIME)
	$(GO) test ./fixer -run '^$$' -fuzz '^FuzzReadJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/safefile -run '^$$' -fuzz '^FuzzDescriptor$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/rootpath -run '^$$' -fuzz '^FuzzResolve$$' -fuzztime $(FUZZTIME)
	$(GO) test ./fixer -run '^$$' -fuzz '^FuzzReadScript$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzSniffSQL$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzSniffPHPInclude$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzSniffHtaccess$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzPackageLists$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/cmd/gentree -run '^$$' -fuzz '^FuzzParseSize$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/rpmdb -run '^$$' -fuzz '^FuzzRPMDB$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/rpmdb -run '^$$' -fuzz '^FuzzRPMHeader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzSpoolRecord$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/server -run '^$$' -fuzz '^FuzzParseFPM$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/server -run '^$$' -fuzz '^FuzzParseApache$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit/server -run '^$$' -fuzz '^FuzzParseNginx$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
