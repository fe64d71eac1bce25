# carebook: make run starts the reference server on an embedded SQLite file
# with a demo clinic; make test runs every test. Both need only Go (checked
# below); PostgreSQL tests run when CAREBOOK_TEST_POSTGRES names a server.

SHELL         := /bin/bash
.SHELLFLAGS   := -o pipefail -c
GO            ?= go
GO_MIN        := 1.26
DB            ?= carebook.db
ADDR          ?= 127.0.0.1:8080
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT     := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_COUNT   ?= 6
BENCH_TIME    ?= 1s

# The PostgreSQL that tests use, when it answers; CI requires it.
CAREBOOK_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export CAREBOOK_TEST_POSTGRES

.PHONY: run test bench lint fuzz examples check-go check-browser check-s3 check-stripe-mock build clean

check-go:
	@command -v $(GO) >/dev/null || { echo "Go $(GO_MIN)+ is needed: https://go.dev/dl/"; exit 1; }
	@$(GO) run ./internal/tools/goversion $(GO_MIN)

build: check-go
	$(GO) build -o bin/refserver ./cmd/refserver

run: build
	./bin/refserver serve -dsn "sqlite:$(DB)" -addr "$(ADDR)" -migrate -demo

# The pages' browser tests drive Debian's Chromium; without it they skip,
# unless CAREBOOK_REQUIRE_BROWSER=1 (CI), which makes its absence an error.
check-browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$CAREBOOK_REQUIRE_BROWSER" = 1 ]; then echo "the browser tests need Chromium: apt-get install chromium (CAREBOOK_REQUIRE_BROWSER=1)"; exit 1; fi; \
		echo "note: no chromium on PATH, the browser tests will skip (apt-get install chromium to run them)"; }

check-s3:
	@command -v versitygw >/dev/null 2>&1 || [ -n "$$CAREBOOK_VERSITYGW" ] || { \
		if [ "$$CAREBOOK_REQUIRE_S3" = 1 ]; then echo "the S3 tests need versitygw: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (CAREBOOK_REQUIRE_S3=1)"; exit 1; fi; \
		echo "note: no versitygw on PATH, the files package's S3 tests will skip (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 to run them)"; }

# The Stripe adapter's request tests run stripe-mock ($CAREBOOK_STRIPE_MOCK, on
# PATH, or in ~/.cache/carebook-tools); without it they skip, unless
# CAREBOOK_REQUIRE_STRIPE_MOCK=1 (CI).
check-stripe-mock:
	@command -v stripe-mock >/dev/null 2>&1 || [ -n "$$CAREBOOK_STRIPE_MOCK" ] || [ -x "$${CAREBOOK_TOOLS:-$$HOME/.cache/carebook-tools}/stripe-mock" ] || { \
		if [ "$$CAREBOOK_REQUIRE_STRIPE_MOCK" = 1 ]; then echo "the Stripe request tests need stripe-mock: go install github.com/stripe/stripe-mock@v0.203.0 (CAREBOOK_REQUIRE_STRIPE_MOCK=1)"; exit 1; fi; \
		echo "note: no stripe-mock on PATH, billing/stripe's request tests will skip (go install github.com/stripe/stripe-mock@v0.203.0 to run them)"; }

test: check-go check-browser check-s3 check-stripe-mock
	$(GO) test -race -count=1 -timeout=30m ./...

bench: check-go
	$(GO) test -run='^$$' -bench=. -benchmem -count=$(BENCH_COUNT) -benchtime=$(BENCH_TIME) -timeout=60m ./... | tee bench.txt
	$(GO) run $(BENCHSTAT) bench.txt

lint: check-go
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz: check-go
	$(GO) test -run='^$$' -fuzz=FuzzExpandRRule -fuzztime=30s ./scheduling/
	$(GO) test -run='^$$' -fuzz=FuzzParseDSN -fuzztime=30s ./sqlstore/
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=30s ./directory/zipcode/
	$(GO) test -run='^$$' -fuzz=FuzzParseWebhook -fuzztime=30s ./billing/stripe/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeBookRequest -fuzztime=30s ./refserver/api/
	$(GO) test -run='^$$' -fuzz='^FuzzOpenAPIWalk$$' -fuzztime=60s ./refserver/api/
	CAREBOOK_WALK=full $(GO) test -count=1 -run='^TestOpenAPIWalk$$' -timeout=30m ./refserver/api/

examples: check-go
	@for d in examples/*/; do echo "== $$d"; $(GO) run ./$$d || exit 1; done

clean:
	rm -rf bin bench.txt
