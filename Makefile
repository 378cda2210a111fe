# The hub's two commands: `make run` and `make test`. Both install what is missing and, without
# HUB_DATABASE_URL, use a PostgreSQL of the project's own under .data/.
SHELL := /bin/sh
PORT ?= 8000

.PHONY: run test build release deps db bench http-bench clean stop-db fuzz fuzz-smoke test-sanitize

deps:
	@scripts/deps.sh

db:
	@if [ -z "$$HUB_DATABASE_URL" ]; then scripts/pg-local.sh start && scripts/pg-local.sh ensure-db hub; fi

.data/jwt-secret:
	@mkdir -p .data && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $@ && chmod 600 $@

# A development Web Push (VAPID) key pair, used when HUB_VAPID_PRIVATE_KEY is unset.
.data/vapid-private.pem:
	@mkdir -p .data && openssl ecparam -name prime256v1 -genkey -noout -out $@ && chmod 600 $@ \
	 && openssl ec -in $@ -pubout -out .data/vapid-public.pem 2>/dev/null

# A development service key and a first staff account (admin@localhost), made like the JWT secret.
.data/service-key:
	@mkdir -p .data && printf 'dev-%s' "$$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" > $@ && chmod 600 $@

.data/admin-password:
	@mkdir -p .data && head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 20 > $@ && chmod 600 $@

build: deps
	swift build

release: deps
	swift build -c release

run: release db .data/jwt-secret .data/vapid-private.pem .data/service-key .data/admin-password
	@scripts/banner.sh "$${HUB_PORT:-$(PORT)}"
	@HUB_DATABASE_URL="$${HUB_DATABASE_URL:-$$(scripts/pg-local.sh url hub)}" \
	 HUB_SERVICE_KEYS="$${HUB_SERVICE_KEYS:-$$(cat .data/service-key)}" \
	 HUB_ADMIN_EMAIL="$${HUB_ADMIN_EMAIL:-admin@localhost}" \
	 HUB_ADMIN_PASSWORD_FILE="$${HUB_ADMIN_PASSWORD_FILE:-.data/admin-password}" \
	 HUB_JWT_SECRET="$${HUB_JWT_SECRET:-$$(cat .data/jwt-secret)}" \
	 HUB_VAPID_PRIVATE_KEY="$${HUB_VAPID_PRIVATE_KEY:-$$(cat .data/vapid-private.pem)}" \
	 HUB_VAPID_SUBJECT="$${HUB_VAPID_SUBJECT:-mailto:dev@localhost}" \
	 HUB_PORT="$${HUB_PORT:-$(PORT)}" \
	 exec .build/release/hubd

test:
	@scripts/deps.sh test
	@if [ -z "$$HUB_DATABASE_URL" ]; then scripts/pg-local.sh start && scripts/pg-local.sh fresh-db hub_test \
	 && scripts/pg-local.sh fresh-db hub_e2e; fi
	swift build --build-tests
	HUB_TEST_DATABASE_URL="$${HUB_DATABASE_URL:-$$(scripts/pg-local.sh url hub_test)}" \
	 HUBD_BINARY="$$(swift build --show-bin-path)/hubd" swift test --skip-build
	HUB_E2E_DATABASE_URL="$${HUB_DATABASE_URL:-$$(scripts/pg-local.sh url hub_e2e)}" \
	 HUB_E2E_PG_CONTROL="$${HUB_DATABASE_URL:+external}" \
	 HUBD_BINARY="$$(swift build --show-bin-path)/hubd" python3 Tests/e2e/run_all.py
	@$(MAKE) --no-print-directory fuzz-smoke

# libFuzzer targets of Tests/Fuzz (README: Fuzzing), FUZZ_SECONDS each; `make test` runs each for 10 s.
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke:
	scripts/fuzz.sh 10

# The Swift test suites under ThreadSanitizer, then AddressSanitizer (README: Sanitizers).
test-sanitize:
	@scripts/deps.sh
	@if [ -z "$$HUB_DATABASE_URL" ]; then scripts/pg-local.sh start && scripts/pg-local.sh fresh-db hub_sanitize; fi
	HUB_TEST_DATABASE_URL="$${HUB_DATABASE_URL:-$$(scripts/pg-local.sh url hub_sanitize)}" scripts/sanitize.sh

bench: release
	loadtest/scripts/bench.sh

http-bench: release
	loadtest/scripts/http-bench.sh

stop-db:
	@scripts/pg-local.sh stop

clean:
	swift package clean
