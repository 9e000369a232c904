# heph — see README.md. Every target works on a fresh machine with only Go;
# tests that need a component (systemd, node, nvim, taskwarrior) skip with a
# message outside CI and fail under CI=true.

GO      ?= go
BIN     ?= bin
DEV     := $(CURDIR)/.dev
PKG     := .
FUZZTIME ?= 60s
export CGO_ENABLED ?= 0

.PHONY: all build dev test deps fuzz bench cross vet clean man

all: build

## build: a static heph binary and its hephd symlink in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/heph $(PKG)
	ln -sf heph $(BIN)/hephd

## man: heph(1), hephd(8), heph-filters(7), heph-quickadd(7) in man/, from the command table and README (man -l man/heph.1)
man: build
	$(BIN)/heph __man man

## dev: run a working-tree hephd on .dev/ paths and show heph talking to it
dev: build
	@mkdir -p -m 700 $(DEV)
	@if [ -S $(DEV)/hephd.sock ] && HEPH_SOCKET=$(DEV)/hephd.sock $(BIN)/heph version >/dev/null 2>&1; then \
		echo "a dev hephd is already running on $(DEV)/hephd.sock"; \
	else \
		$(BIN)/hephd --db $(DEV)/heph.db --socket $(DEV)/hephd.sock --log $(DEV)/hephd.log </dev/null >/dev/null 2>&1 & \
		for i in $$(seq 1 100); do [ -S $(DEV)/hephd.sock ] && break; sleep 0.05; done; \
	fi
	@echo "== heph version"; HEPH_SOCKET=$(DEV)/hephd.sock HEPH_DB=$(DEV)/heph.db $(BIN)/heph version
	@echo "== heph next"; HEPH_SOCKET=$(DEV)/hephd.sock HEPH_DB=$(DEV)/heph.db $(BIN)/heph next || true
	@echo
	@echo "dev hephd runs in the background (log: $(DEV)/hephd.log; stop: kill \$$(cat $(DEV)/heph.db.lock))."
	@echo "Point a second shell at it with:"
	@echo "  export PATH=$(CURDIR)/$(BIN):\$$PATH"
	@echo "  HEPH_SOCKET=$$PWD/.dev/hephd.sock HEPH_DB=$$PWD/.dev/heph.db heph next"

## deps: what the tests need beyond Go (node modules for the OIDC provider)
deps:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix testdata/node --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: OIDC end-to-end tests will skip (CI=true fails them)"; fi

## test: the full suite (vet, unit, end to end)
test: deps vet
	$(GO) test -count=1 -timeout 45m $(PKG)

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@targets=$$($(GO) test -list '^Fuzz' $(PKG)) || { echo "$$targets"; exit 1; }; \
	targets=$$(echo "$$targets" | grep '^Fuzz' || true); \
	[ -n "$$targets" ] || { echo "no Fuzz targets found"; exit 1; }; \
	for f in $$targets; do \
		echo "== $$f ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(PKG) || exit 1; \
	done

## bench: Go benchmarks plus the whole-process comparisons in bench/
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKG)
	@rc=0; for s in bench/*.sh; do echo "== $$s"; bash $$s || { echo "== $$s: a target was missed"; rc=1; }; done; exit $$rc

## cross: static binaries for linux and darwin, amd64 and arm64
cross:
	@for os in linux darwin; do for arch in amd64 arm64; do \
		echo "build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -o $(BIN)/heph-$$os-$$arch $(PKG) || exit 1; \
	done; done

clean:
	rm -rf $(BIN) .dev
