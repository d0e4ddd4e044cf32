# The README's two commands: `make run` (or `go run ./cmd/baton serve --demo`)
# and `make test`.
GO ?= go

.PHONY: test replica show openapi check run build lint bench race

# Every test, on SQLite and on a throwaway PostgreSQL that the script starts
# (installing Debian's postgresql first when the machine has none), the
# browser tests in Debian's headless Chromium (installed when missing), the
# lint of the OpenAPI document with Redocly's CLI (from npm, pinned), and
# /metrics linted by promtool (unpacked from Debian's prometheus package).
# Then the read replica tests, on a primary with a hot standby streaming
# from it (the script starts both).
test:
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-axe.sh
	bash scripts/ensure-redocly.sh
	BATON_PROMTOOL=$$(bash scripts/ensure-promtool.sh) BATON_REQUIRE_PROMTOOL=1 BATON_REQUIRE_BROWSER=1 BATON_REQUIRE_REDOCLY=1 \
		bash scripts/with-postgres.sh $(GO) test -count=1 ./...
	$(MAKE) replica

# The reads that may lag on a PostgreSQL hot standby (--read-db): a primary
# and a standby started on this machine, and the tests that use both.
replica:
	BATON_REQUIRE_REPLICA=1 bash scripts/with-postgres.sh --replica $(GO) test -count=1 -v -run 'TestReadReplica|TestServeReadReplica' ./store/ ./cmd/baton/

# The OpenAPI document as generators see it, test by test (CI shows them):
# Redocly's lint with its recommended rules, the document's own checks, the
# Go client generated from the served document, and the handoff through it.
openapi:
	bash scripts/ensure-redocly.sh
	BATON_REQUIRE_REDOCLY=1 $(GO) test -count=1 -v -run 'TestRedoclyLint|TestOpenAPI|TestWebhookPayloads' ./api/
	$(GO) test -count=1 -v ./client/

# Shows in the log what receivers and scrapers get: deliveries verified with
# the Standard Webhooks library and the reference algorithm, and the
# business series of /metrics after the handoff end-to-end test, linted by
# promtool. CI runs it after make test.
show:
	BATON_PROMTOOL=$$(bash scripts/ensure-promtool.sh) BATON_REQUIRE_PROMTOOL=1 bash scripts/with-postgres.sh \
		$(GO) test -count=1 -v -run 'TestSignStandardKnownAnswer|TestSendStandardWebhooks|TestHandoffEndToEnd' ./notify/ ./deliver/

# The quick loop while editing: every test that is not long, on SQLite.
check:
	$(GO) test -short -count=1 ./...

run:
	$(GO) run ./cmd/baton serve --demo

build:
	$(GO) build -o bin/baton ./cmd/baton

lint:
	test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# The tests that race on purpose (concurrent answers, breaches against
# accepts, job claims, events during a rescore), under the race detector,
# on both backends. CI runs it; the whole packages under -race take too long
# (the race detector slows the Go side of every query).
RACY = TestConcurrentStageChange|TestAcceptRacesBreach|TestJobsConcurrentWorkers|TestRescoreWhileEventsArrive|TestAnswerRace|TestWorker
race:
	bash scripts/with-postgres.sh $(GO) test -race -count=1 -run '$(RACY)' ./store/ ./api/ ./worker/

bench:
	bash scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchmem ./...
