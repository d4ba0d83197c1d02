# Billing service. `make run` starts it locally (embedded MariaDB, no keys needed); `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A JDK >= 21: JAVA_HOME if it is one, else the newest installed under /usr/lib/jvm.
JAVA_HOME := $(shell bash .ci/find-jdk.sh 2>/dev/null)
export JAVA_HOME
MVN := ./mvnw -B -q
JAVA = $(JAVA_HOME)/bin/java
JAVA_OPTS ?= --enable-native-access=ALL-UNNAMED
SERVER_JAR := server/target/billing-server.jar
EMULATOR_JAR := server/target/stripe-emulator.jar

.PHONY: help check-jdk build test run lint clean fmt trigger advance-clock reconcile chaos bench bench-peer footprint proto-release

help:
	@echo "make run    start the service locally (embedded MariaDB under ./data, gRPC :9090, HTTP :8080)"
	@echo "make test   run all tests (nothing to install)"
	@echo "make build  build server/target/billing-server.jar and server/target/stripe-emulator.jar"
	@echo "make trigger EVENT=<type> USER=<id>   make the local Stripe emulator send that webhook"
	@echo "make advance-clock USER=<id> DAYS=<n>   move the user's Stripe test clock (renewals on demand)"
	@echo "make reconcile [DRY_RUN=1] [SINCE=2026-12-01T00:00:00Z]   compare with Stripe and repair (admin token)"
	@echo "make chaos  soak: kill -9 and a database restart under load, compared with a crash-free run"
	@echo "make bench  start a fresh local stack and print throughput and latency figures"
	@echo "make bench-peer   webhook ingestion vs @supabase/stripe-sync-engine (../shared/bench)"
	@echo "make lint   format check, buf lint and buf breaking against the released proto"
	@echo "make clean  remove build output (keeps ./data)"

check-jdk:
	@if [ -z "$(JAVA_HOME)" ]; then \
	  echo "error: no JDK 21 or newer found. Install one (e.g. Temurin 21+) and set JAVA_HOME." >&2; exit 1; fi

$(SERVER_JAR): check-jdk $(shell find pom.xml proto server/pom.xml server/src client-stub sql -type f -not -path '*/target/*' 2>/dev/null)
	$(MVN) -DskipTests install

build: check-jdk
	$(MVN) -DskipTests install

test: check-jdk
	$(MVN) install

run: $(SERVER_JAR)
	$(JAVA) $(JAVA_OPTS) -cp "server/target/test-classes:server/target/classes:$$(cat server/target/dev-classpath.txt)" dev.billing.dev.LocalRun

# Figures: GetEntitlement throughput/latency, webhook ingest rate, stream fan-out latency (make bench BENCH_ARGS=...)
# The measuring client gets a heap of its own size, so that it rarely collects while it measures.
BENCH_JAVA_OPTS ?= -Xms2g -Xmx2g
bench: $(SERVER_JAR)
	$(JAVA) $(JAVA_OPTS) $(BENCH_JAVA_OPTS) -cp "server/target/test-classes:server/target/classes:$$(cat server/target/dev-classpath.txt)" dev.billing.dev.BenchRun $(BENCH_ARGS)

# Soak under faults (CHAOS_ARGS="users kills db-restarts seed"; default 300 users, 4 kill -9, 1 database restart):
# the production jar on its own embedded MariaDB, compared with a crash-free run of the same deliveries.
chaos: $(SERVER_JAR)
	$(JAVA) $(JAVA_OPTS) -cp "server/target/test-classes:server/target/classes:$$(cat server/target/dev-classpath.txt)" dev.billing.dev.ChaosRun $(CHAOS_ARGS)

# Memory of GetEntitlement's snapshot per cached user (make footprint USERS=1000000)
USERS ?= 1000000
footprint: $(SERVER_JAR)
	$(JAVA) $(JAVA_OPTS) -Xmx4g -cp "server/target/test-classes:server/target/classes:$$(cat server/target/dev-classpath.txt)" dev.billing.dev.SnapshotFootprint $(USERS)

# make trigger EVENT=invoice.payment_failed USER=u1 (needs `make run` without STRIPE_SECRET_KEY,
# or stripe-emulator.jar running; STRIPE_EMULATOR_URL=http://localhost:N points at another emulator)
trigger: $(SERVER_JAR)
	@if [ -z "$(EVENT)" ]; then echo "usage: make trigger EVENT=<type> USER=<user_id>" >&2; exit 2; fi
	$(JAVA) -cp $(EMULATOR_JAR) dev.billing.stripe.emulator.TriggerCommand --event "$(EVENT)" --user "$(USER)" \
	  $(if $(STRIPE_EMULATOR_URL),--emulator "$(STRIPE_EMULATOR_URL)")


# make advance-clock USER=alice DAYS=31: the user's Stripe test clock moves on (renewals, invoice.paid, ...);
# against make run's emulator, or Stripe test mode with STRIPE_API_BASE / STRIPE_SECRET_KEY set.
advance-clock: $(SERVER_JAR)
	@if [ -z "$(USER)" ] || [ -z "$(DAYS)" ]; then echo "usage: make advance-clock USER=<user_id> DAYS=<n>" >&2; exit 2; fi
	$(JAVA) -cp $(EMULATOR_JAR) dev.billing.stripe.emulator.AdvanceClockCommand --user "$(USER)" --days "$(DAYS)"

# Webhook ingestion against @supabase/stripe-sync-engine (../shared/bench; args: N PAIRS "C list").
# The production jar needs a Stripe: it gets a test key and an API base nobody listens on (the
# ingest path never calls Stripe).
# Ports below Linux's ephemeral range (32768-60999; the tool's defaults lie inside it): a previous
# run's own client connections (its MariaDB connections, closed at shutdown) stay in TIME_WAIT on
# their local ports for 60 s and made a start fail with "address already in use" (2026-12-04).
BENCH_HTTP_PORT ?= 28080
BENCH_GRPC_PORT ?= 29090
BENCH_STUB_PORT ?= 22111
bench-peer: $(SERVER_JAR)
	PROJECT_EXTRA_ENV="STRIPE_SECRET_KEY=sk_test_bench STRIPE_API_BASE=http://127.0.0.1:9 $(PROJECT_EXTRA_ENV)" \
	  BENCH_HTTP_PORT=$(BENCH_HTTP_PORT) BENCH_GRPC_PORT=$(BENCH_GRPC_PORT) BENCH_STUB_PORT=$(BENCH_STUB_PORT) \
	  JAVA_HOME=$(JAVA_HOME) ../shared/bench/webhook-vs-peer.sh $(BENCH_PEER_ARGS)

# buf at the version pinned in .ci/buf/package.json (installed once by npm ci).
BUF := .ci/buf/node_modules/.bin/buf
$(BUF): .ci/buf/package.json .ci/buf/package-lock.json
	cd .ci/buf && npm ci --no-audit --no-fund --loglevel=error
	@touch $(BUF)

# ReconcileWithStripe on a running service (make run's, by default): missed events through the inbox, subscription
# drift reported and (unless DRY_RUN=1) repaired. TOKEN needs the admin scope; GRPC names the server.
TOKEN ?= billing-dev-token
GRPC ?= localhost:9090
reconcile: $(BUF)
	$(BUF) curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $(TOKEN)" \
	  http://$(GRPC)/billing.v1.BillingService/ReconcileWithStripe \
	  -d '{"dry_run":$(if $(DRY_RUN),true,false)$(if $(SINCE),$(comma)"since":"$(SINCE)")}'
comma := ,

# Format check (never rewrites), proto style, and no breaking change against the released API.
lint: check-jdk $(BUF)
	cd proto && ../$(BUF) lint
	cd proto && ../$(BUF) breaking --against ../.ci/buf/released.binpb
	$(MVN) spotless:check

# After a release: the current proto becomes the baseline that `make lint` checks against.
proto-release: $(BUF)
	cd proto && ../$(BUF) build -o ../.ci/buf/released.binpb

fmt: check-jdk
	$(MVN) spotless:apply

clean: check-jdk
	$(MVN) clean
