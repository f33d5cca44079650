# Pulse — make targets. `make run` and `make test` are the two commands of README.md.
.PHONY: help install infra-up infra-down infra-reset up down run test test-unit test-integration test-e2e test-faults lint schemas bench

help:
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install: ## Install uv and the locked Python environment
	scripts/bootstrap.sh

infra-up: ## Start Kafka (KRaft) and FerretDB on loopback (built and cached on first run)
	scripts/infra.sh up

infra-down: ## Stop Kafka and FerretDB
	scripts/infra.sh down

infra-reset: ## Stop the infrastructure and delete its data
	scripts/infra.sh reset

up: install infra-up ## Start infrastructure and the four services in the background
	scripts/services.sh up

down: ## Stop the services and the infrastructure
	scripts/services.sh down
	scripts/infra.sh down

run: ## Run Pulse with demo data until Ctrl-C
	scripts/run.sh

test: ## Run every test suite against the real Kafka and store
	scripts/test.sh

test-unit: ## Unit tests only (no I/O)
	scripts/bootstrap.sh && .venv/bin/python -m pytest tests/unit

test-integration: ## Integration tests (starts the infrastructure if needed)
	scripts/test.sh tests/integration

test-e2e: ## End-to-end tests (the four services as processes)
	scripts/test.sh tests/e2e

test-faults: ## Full fault-injection suite: kills Kafka, the store and every service twice under load
	PULSE_FAULT_ROUNDS=2 scripts/test.sh tests/faults

lint: install ## ruff, mypy --strict and STYLE.md's import rules
	.venv/bin/ruff check libs services tests benchmarks scripts
	.venv/bin/ruff format --check libs services tests benchmarks scripts
	.venv/bin/mypy libs services
	.venv/bin/python scripts/check_imports.py

schemas: install ## Regenerate the event JSON Schemas and AsyncAPI document
	.venv/bin/python -m pulse_libs.events.schema --out docs/events

bench: install infra-up ## Run the benchmarks and write docs/BENCHMARKS.md
	.venv/bin/python -m benchmarks.run

.PHONY: check-deploy
check-deploy: ## Validate the Dockerfile, compose, Kubernetes manifests, Prometheus rules and dashboards offline
	scripts/check-deploy.sh
