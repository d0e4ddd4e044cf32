# The README's two commands: `make run` (or `go run ./cmd/baton serve --demo`)
# and `make test`.
GO ?= go

.PHONY: test run build lint bench race

# Every test, on SQLite and on a throwaway PostgreSQL that the script starts
# (installing Debian's postgresql first when the machine has none), and the
# browser tests in Debian's headless Chromium (installed when missing).
test:
	bash scripts/ensure-chromium.sh
	BATON_REQUIRE_BROWSER=1 bash scripts/with-postgres.sh $(GO) test -count=1 ./...

run:
	$(GO) run ./cmd/baton serve --demo

build:
	CGO_ENABLED=0 $(GO) build -o bin/baton ./cmd/baton

lint:
	test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

race:
	bash scripts/with-postgres.sh $(GO) test -race -count=1 ./store/... ./worker/... ./api/...

bench:
	bash scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchmem ./...
