#!/usr/bin/env bash
# `make check-deploy`: validates everything under deploy/ (the image's Dockerfile too) offline, without a
# Docker engine or a cluster. Installs its own tools idempotently (cached under .cache/, keyed by
# version, so re-runs take seconds):
#   kustomize, kubeconform, promtool   built from the Go module proxy (`go install`)
#   composecheck                       a 30-line Go program on compose-go, the loader of Docker Compose
#   dockerfilecheck                    a small Go program on BuildKit's Dockerfile parser, instruction loader and linter
#   kubernetes-validate (PyPI)         only for its Kubernetes JSON schemas, bundled here for kubeconform
# Checks, in order: the one Dockerfile (deploy/docker/Dockerfile) and per-service lockfile isolation; compose.yaml (Compose schema,
# interpolation with .env.example, consistency, our own rules); kustomize build of every overlay;
# kubeconform (Kubernetes schemas, strict; Strimzi v1 Kafka/KafkaNodePool/KafkaTopic/KafkaUser and KEDA
# ScaledObject/TriggerAuthentication against deploy/k8s/schemas); manifest rules (probes, resources,
# security, PDB/NetworkPolicy, HPA or KEDA lag scaling, SASL_SSL to Kafka, Ingress with TLS); KafkaTopics and
# KafkaUsers generated from libs; promtool check config / check rules / test rules; Grafana dashboards
# (valid JSON, datasource, every PromQL expression parses); the AsyncAPI document (@asyncapi/parser).
# Exit status 0 only if every check passes. docs/OPERATIONS.md describes each check.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

KUSTOMIZE_VERSION=v5.8.1        # v5.8.2+ need Go 1.27
KUBECONFORM_VERSION=v0.7.0
PROMETHEUS_VERSION=v0.316.0     # Prometheus 3.x module version; promtool from cmd/promtool
COMPOSE_GO_VERSION=v2.16.2
BUILDKIT_VERSION=v0.34.2        # BuildKit's Dockerfile parser and linter (dockerfilecheck)
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBE_VERSION="${PULSE_KUBE_VERSION:-1.34.0}"   # Kubernetes version the manifests are validated for

CACHE="${PULSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse}"
BIN="$CACHE/bin"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() { echo "[check-deploy] $*" >&2; }
die() { log "error: $*"; exit 1; }
ok() { echo "ok   $*"; }

for tool in go uv python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required (Go for kustomize/kubeconform/promtool, uv and Python 3.11 for the rest)"
done
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

# go_tool NAME MODULE/PATH VERSION -> prints the path of the cached binary, building it once.
go_tool() {
  local name=$1 pkg=$2 version=$3 dir="$BIN/$1-$3"
  if [[ ! -x "$dir/$name" ]]; then
    log "building $name $version from the Go module proxy (first run only; promtool takes a few minutes)"
    mkdir -p "$dir"
    GOBIN="$dir" go install "$pkg@$version" >&2 || die "could not build $name ($pkg@$version) with $(go version)"
  fi
  echo "$dir/$name"
}

# go_program NAME MODULE VERSION MAIN_GO -> prints the path of a one-file Go program built against MODULE@VERSION,
# building it once (cached by version).
go_program() {
  local name=$1 module=$2 version=$3 main=$4 dir="$BIN/$1-$3" src="$CACHE/src/$1-$3"
  if [[ ! -x "$dir/$name" ]]; then
    log "building $name on $module $version (first run only)"
    mkdir -p "$dir" "$src"
    printf 'module pulse/%s\n\ngo 1.24\n\nrequire %s %s\n' "$name" "$module" "$version" >"$src/go.mod"
    printf '%s\n' "$main" >"$src/main.go"
    (cd "$src" && go mod tidy >&2 && go build -o "$dir/$name" .) || die "could not build $name ($module $version)"
  fi
  echo "$dir/$name"
}

COMPOSECHECK_GO=$(cat <<'EOF'
// composecheck loads a Compose file as Docker Compose does (compose-go): JSON-schema validation,
// interpolation from the environment and an env file, normalization and consistency checks
// (undefined networks, volumes, services in depends_on, ...). Prints the resolved model as JSON.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: composecheck COMPOSE_FILE ENV_FILE")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions([]string{os.Args[1]},
		cli.WithEnvFiles(os.Args[2]), cli.WithDotEnv, cli.WithInterpolation(true),
		cli.WithResolvedPaths(true), cli.WithNormalization(true), cli.WithConsistency(true))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(project)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
EOF
)

DOCKERFILECHECK_GO=$(cat <<'EOF'
// dockerfilecheck parses a Dockerfile with BuildKit's own parser and instruction loader (what
// `docker build` runs first), prints every lint warning BuildKit raises while parsing, and checks that
// each stage named in FROM or COPY --from resolves for the given build arguments.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfilecheck DOCKERFILE [KEY=VALUE ...]")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	result, err := parser.Parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse:", err)
		os.Exit(1)
	}
	problems := 0
	for _, w := range result.Warnings {
		fmt.Printf("warning: %s\n", w.Short)
		problems++
	}
	lint := linter.New(&linter.Config{Warn: func(rule, short, url, msg string, _ []parser.Range) {
		fmt.Printf("lint %s: %s\n", rule, msg)
		problems++
	}})
	stages, metaArgs, err := instructions.Parse(result.AST, lint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "instructions:", err)
		os.Exit(1)
	}
	// A COPY --from or FROM naming no earlier stage would silently pull an image of that name instead.
	seen := map[string]bool{}
	for _, stage := range stages {
		for _, cmd := range stage.Commands {
			if c, ok := cmd.(*instructions.CopyCommand); ok && c.From != "" && !seen[strings.ToLower(c.From)] {
				fmt.Printf("stage %q: COPY --from=%s names no earlier stage\n", stage.Name, c.From)
				problems++
			}
		}
		if stage.Name != "" {
			seen[strings.ToLower(stage.Name)] = true
		}
	}
	if problems > 0 {
		os.Exit(1)
	}
	fmt.Printf("%d stages, %d global ARGs, no BuildKit lint warning\n", len(stages), len(metaArgs))
}
EOF
)

python_env() {
  local dir="$CACHE/deploy-venv-kv$KUBERNETES_VALIDATE_VERSION"
  if [[ ! -f "$dir/.ready" ]]; then
    log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (schemas), jsonschema and PyYAML from PyPI"
    rm -rf "$dir"
    uv venv --quiet --python 3.11 "$dir" >&2 || die "uv could not create $dir"
    uv pip install --quiet --python "$dir/bin/python" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2 \
      || die "could not install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION from PyPI"
    touch "$dir/.ready"
  fi
  echo "$dir/bin/python"
}

KUSTOMIZE=$(go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION")
KUBECONFORM=$(go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")
PROMTOOL=$(go_tool promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION")
COMPOSECHECK=$(go_program composecheck github.com/compose-spec/compose-go/v2 "$COMPOSE_GO_VERSION" "$COMPOSECHECK_GO")
DOCKERFILECHECK=$(go_program dockerfilecheck github.com/moby/buildkit "$BUILDKIT_VERSION" "$DOCKERFILECHECK_GO")
PY=$(python_env)
[[ -d .venv ]] || uv sync --frozen --quiet

# --- Dockerfile ----------------------------------------------------------------------------------
# One parameterised recipe (deploy/docker/Dockerfile, build args SERVICE and PORT) for every image.
"$PY" - <<'PY'
import re, sys
from pathlib import Path
errors = []
path = Path("deploy/docker/Dockerfile")
services = sorted(p.parent.name for p in Path("services").glob("*/pyproject.toml"))
errors += [f"{p}: one Dockerfile for every service (deploy/docker/Dockerfile); delete this one"
           for p in sorted(Path("services").glob("*/Dockerfile"))]
text = path.read_text() if path.exists() else ""
if not text:
    errors.append(f"{path} is missing")
lines = [l.strip() for l in text.replace("\\\n", " ").splitlines() if l.strip() and not l.strip().startswith("#")]
froms = [i for i, l in enumerate(lines) if l.upper().startswith("FROM ")]
stages = [lines[a:b] for a, b in zip(froms, froms[1:] + [len(lines)])]
for stage in stages:
    used = set(re.findall(r"\$\{(SERVICE|PORT)\}", " ".join(stage[1:])))
    declared = {l.split()[1].split("=")[0] for l in stage if l.startswith("ARG ")}
    errors += [f"{path}: stage `{stage[0]}` uses ${{{a}}} without `ARG {a}`" for a in sorted(used - declared)]
syncs = [l for l in lines if l.startswith("RUN uv sync")]
copied = set(re.findall(r"^COPY services/(\w+)/pyproject\.toml", text, re.M))
need = {
    "multi-stage build (2+ FROM)": len(froms) >= 2,
    "python:3.11-slim base": "python:3.11-slim" in text,
    "uv pinned from PyPI": re.search(r"pip install [^\n]*uv==\d+\.\d+\.\d+", text) is not None,
    "uv sync --frozen --no-dev --package pulse-${SERVICE}": bool(syncs) and all(
        re.search(r"uv sync --frozen --no-dev .*--package pulse-\$\{SERVICE\}(\s|$)", l) for l in syncs),
    f"every workspace member's manifest copied ({', '.join(services)})": copied == set(services),
    "the service's own code only (COPY services/${SERVICE}/)": "COPY services/${SERVICE}/ services/${SERVICE}/" in lines,
    "non-root USER": any(re.match(r"USER (?!0\b|root\b)\S+", l) for l in lines),
    "HEALTHCHECK on /healthz": any(l.startswith("HEALTHCHECK") and "/healthz" in l for l in lines),
    "EXPOSE ${PORT}": "EXPOSE ${PORT}" in lines,
    "PULSE_ENV=production": "PULSE_ENV=production" in text,
    "PULSE_HOST=0.0.0.0": "PULSE_HOST=0.0.0.0" in text,
    "PULSE_IMAGE_SERVICE=${SERVICE} and PULSE_IMAGE_PORT=${PORT}":
        "PULSE_IMAGE_SERVICE=${SERVICE}" in text and "PULSE_IMAGE_PORT=${PORT}" in text,
    "CMD execs python -m pulse_<service>": 'CMD ["sh", "-c", "exec python -m \\"pulse_${PULSE_IMAGE_SERVICE}\\""]' in lines,
}
errors += [f"{path}: {what}" for what, good in need.items() if not good and text]
ignore = Path(".dockerignore").read_text().split() if Path(".dockerignore").exists() else []
errors += [f".dockerignore must exclude {p}" for p in (".git", ".venv", ".cache", "**/.env") if p not in ignore]
if errors:
    print("\n".join("FAIL " + e for e in errors)); sys.exit(1)
print(f"ok   Dockerfile: one recipe for {len(services)} services (SERVICE/PORT build args), multi-stage, slim, "
      "locked per-service deps, non-root, HEALTHCHECK, EXPOSE")
PY
"$DOCKERFILECHECK" deploy/docker/Dockerfile >&2 || die "deploy/docker/Dockerfile fails BuildKit's parser or linter (see above)"
ok "Dockerfile parses with BuildKit $BUILDKIT_VERSION: no lint warning, every COPY --from names an earlier stage"
# Each image installs only its service's locked dependencies: no other service in its closure.
for svc in intake triage notify reporting console; do
  deps=$(uv export --frozen --no-dev --no-hashes --no-header --package "pulse-$svc" 2>/dev/null) \
    || die "uv export --package pulse-$svc failed: is uv.lock in sync with the manifests?"
  for other in intake triage notify reporting console; do
    [[ $other == "$svc" ]] && continue
    if grep -qE "(^-e |^)\./services/$other\$" <<<"$deps"; then die "pulse-$svc's image would contain pulse-$other"; fi
  done
done
ok "uv.lock: each image's dependency closure holds its own service only"

# --- Compose -------------------------------------------------------------------------------------
grep -qx "deploy/.env" .gitignore || die "deploy/.env must be listed in .gitignore"
if git ls-files --error-unmatch deploy/.env >/dev/null 2>&1; then die "deploy/.env is committed: remove it and rotate its secrets"; fi
"$COMPOSECHECK" deploy/compose.yaml deploy/.env.example >"$WORK/compose.json" \
  || die "deploy/compose.yaml is not a valid Compose file (see above)"
"$PY" - "$WORK/compose.json" <<'PY'
import json, re, sys
from pathlib import Path
model = json.load(open(sys.argv[1]))
services = model["services"]
errors = []
for svc, port in {"intake": 8001, "triage": 8002, "notify": 8003, "reporting": 8004}.items():
    s = services.get(svc)
    if s is None:
        errors.append(f"service {svc} missing"); continue
    dep = s.get("depends_on", {})
    for infra, cond in (("mongo", "service_healthy"), ("kafka", "service_healthy"), ("topics", "service_completed_successfully")):
        if dep.get(infra, {}).get("condition") != cond:
            errors.append(f"{svc} must depend on {infra} ({cond})")
    env = s.get("environment", {})
    for key in ("PULSE_ENV", "PULSE_MONGO_URL", "PULSE_KAFKA_BOOTSTRAP", "PULSE_JWT_SECRET", "PULSE_PSEUDONYM_KEY"):
        if not env.get(key):
            errors.append(f"{svc}: {key} not set")
    if env.get("PULSE_ENV") != "production":
        errors.append(f"{svc}: PULSE_ENV must be production")
    if not s.get("read_only"):
        errors.append(f"{svc}: read_only root filesystem expected")
    if "backend" not in s.get("networks", {}):
        errors.append(f"{svc}: must be on the backend network")
# Every image is built from the one Dockerfile with its own SERVICE and the port its settings default to.
for svc in ("intake", "triage", "notify", "reporting", "console", "topics"):
    build = services.get(svc, {}).get("build") or {}
    dockerfile = Path(build.get("dockerfile", ""))
    if not dockerfile.is_absolute():
        dockerfile = Path(build.get("context", ".")) / dockerfile
    if dockerfile.resolve() != Path("deploy/docker/Dockerfile").resolve():
        errors.append(f"{svc}: build from deploy/docker/Dockerfile (found {build.get('dockerfile')})")
    built = "intake" if svc == "topics" else svc
    settings = Path(f"services/{built}/pulse_{built}/settings.py").read_text()
    port = re.search(r"^    port: int = Field\(default=(\d+)", settings, re.M)
    want = {"SERVICE": built, "PORT": port.group(1) if port else "?"}
    args = {k: build.get("args", {}).get(k) for k in want}
    if args != want:
        errors.append(f"{svc}: build args {args}, expected {want} (PORT = the default port of pulse_{built}.settings)")
if "replSet" not in " ".join(services["mongo"]["command"]) or "rs.initiate" not in " ".join(services["mongo"]["healthcheck"]["test"]):
    errors.append("mongo must run as a replica set initiated by its healthcheck")
if not services["mongo"]["image"].startswith("mongo:7"):
    errors.append("mongo must be MongoDB 7")
if not re.match(r"apache/kafka:4\.", services["kafka"]["image"]) or "controller" not in services["kafka"]["environment"].get("KAFKA_PROCESS_ROLES", ""):
    errors.append("kafka must be apache/kafka 4.x in KRaft mode")
if services["topics"].get("command") != ["python", "-m", "pulse_libs.kafka.admin"]:
    errors.append("topics job must run python -m pulse_libs.kafka.admin")
for name in ("mongo", "kafka"):
    if services[name].get("ports"):
        errors.append(f"{name} must not publish ports")
for name, s in services.items():
    for v in s.get("volumes", []):
        if v.get("type") == "bind" and not Path(v["source"]).exists():
            errors.append(f"{name}: bind mount source {v['source']} does not exist")
# Secrets must come from the env file, never be written in compose.yaml itself.
raw = Path("deploy/compose.yaml").read_text()
for m in re.finditer(r"^\s*([A-Z_]*(SECRET|PASSWORD|TOKEN|_KEY)(_[A-Z_]*)?):\s*(.+)$", raw, re.M):
    if not m.group(4).strip().startswith("${"):
        errors.append(f"compose.yaml hard-codes {m.group(1)}")
# Kafka: every client over SASL_SSL as its own SCRAM user, trusting the stack's CA; PLAINTEXT only on loopback.
secrets = model.get("secrets", {})
for svc in ("intake", "triage", "notify", "reporting", "topics"):
    s, user = services[svc], "pulse-" + ("intake" if svc == "topics" else svc)
    env = s.get("environment", {})
    want = {"PULSE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "PULSE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "PULSE_KAFKA_SASL_USERNAME": user, "PULSE_KAFKA_SSL_CAFILE": "/run/secrets/kafka-ca"}  # fmt: skip
    got = {k: env.get(k) for k in want}
    if got != want:
        errors.append(f"{svc}: Kafka client settings {got}, expected {want}")
    if not env.get("PULSE_KAFKA_SASL_PASSWORD") or not str(env.get("PULSE_KAFKA_BOOTSTRAP", "")).endswith(":9093"):
        errors.append(f"{svc}: a SASL password (from deploy/.env) and the TLS listener kafka:9093 expected")
    if "kafka-ca" not in {x.get("source") for x in s.get("secrets", [])}:
        errors.append(f"{svc}: the kafka-ca secret must be mounted")
if any("PULSE_KAFKA" in k for k in services.get("console", {}).get("environment", {})):
    errors.append("console: no Kafka settings (it has no broker)")
kenv = services["kafka"]["environment"]
protocols = dict(p.split(":", 1) for p in kenv.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(","))
for listener in kenv.get("KAFKA_LISTENERS", "").split(","):
    name, _, address = listener.partition("://")
    if protocols.get(name) not in ("SASL_SSL", "PLAINTEXT"):
        errors.append(f"kafka: listener {name} must be SASL_SSL (or PLAINTEXT on loopback), not {protocols.get(name)}")
    if protocols.get(name) == "PLAINTEXT" and not address.startswith("127.0.0.1:"):
        errors.append(f"kafka: PLAINTEXT listener {name} must bind 127.0.0.1 only (found {address})")
if "SCRAM-SHA-512" not in kenv.get("KAFKA_SASL_ENABLED_MECHANISMS", "") or "kafka-broker-pem" not in secrets:
    errors.append("kafka: SCRAM-SHA-512 and the broker's TLS key (secret kafka-broker-pem) expected")
if "scram-users.sh" not in " ".join(services["kafka"].get("healthcheck", {}).get("test", [])):
    errors.append("kafka: the healthcheck must create the SCRAM users (deploy/kafka/scram-users.sh)")
if errors:
    print("\n".join("FAIL " + e for e in errors)); sys.exit(1)
print(f"ok   compose.yaml: valid Compose model ({len(services)} services), secrets from deploy/.env, healthy dependencies")
PY

# --- Kubernetes ----------------------------------------------------------------------------------
uv run --frozen --quiet python deploy/k8s/gen_kafka_topics.py --check || die "KafkaTopics/KafkaUsers are stale"
mkdir -p "$WORK/k8s"
cp -r deploy/k8s/. "$WORK/k8s/"
for example in "$WORK"/k8s/overlays/*/secrets/*.env.example; do cp "$example" "${example%.example}"; done
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$KUSTOMIZE" build "$WORK/k8s/overlays/$name" >"$WORK/$name.yaml" || die "kustomize build of overlay $name failed"
  ok "kustomize build overlays/$name ($(grep -c '^kind:' "$WORK/$name.yaml") resources)"
done
SCHEMAS="$CACHE/k8s-schemas-kv$KUBERNETES_VALIDATE_VERSION"
"$PY" - "$SCHEMAS" "$KUBE_VERSION" "$WORK"/*.yaml <<'PY'
# Bundle kubernetes-validate's schemas (which $ref a shared _definitions.json by absolute path)
# into self-contained files in kubeconform's layout, for the kinds the manifests use.
import json, sys
from pathlib import Path
import yaml, kubernetes_validate
out_root, version, manifests = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
src = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{version}-local-strict"
if not src.is_dir():
    sys.exit(f"kubernetes-validate has no schemas for Kubernetes {version}")
dest = out_root / f"v{version}-standalone-strict"
dest.mkdir(parents=True, exist_ok=True)
definitions = None
for path in manifests:
    for doc in yaml.safe_load_all(open(path)):
        if not doc or doc["apiVersion"].startswith(("kafka.strimzi.io/", "keda.sh/")):
            continue  # validated against deploy/k8s/schemas (Strimzi v1, KEDA)
        group, _, ver = doc["apiVersion"].rpartition("/")
        name = doc["kind"].lower() + (f"-{group.split('.')[0]}" if group else "") + f"-{ver}.json"
        if (dest / name).exists():
            continue
        if not (src / name).exists():
            sys.exit(f"no Kubernetes {version} schema for {doc['apiVersion']} {doc['kind']}")
        if definitions is None:
            definitions = json.loads((src / "_definitions.json").read_text())
        text = (src / name).read_text().replace('"/api/_definitions.json#/', '"#/')
        schema = json.loads(text)
        schema["$defs"] = json.loads(json.dumps(definitions["$defs"]).replace('"/api/_definitions.json#/', '"#/'))
        (dest / name).write_text(json.dumps(schema))
PY
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$KUBECONFORM" -strict -summary -kubernetes-version "$KUBE_VERSION" \
    -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$ROOT/deploy/k8s/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "$WORK/$name.yaml" || die "overlay $name does not validate against the Kubernetes $KUBE_VERSION schemas"
done
.venv/bin/python - "$WORK"/*.yaml <<'PY'
# Rules the schemas cannot express: what every Pulse workload must have.
import sys
import yaml
sys.path.insert(0, "libs")
from pulse_libs.events.subscriptions import CONSUMES
from pulse_libs.events.topics import all_topics_with_dlqs
errors = []
for path in sys.argv[1:]:
    overlay = path.rsplit("/", 1)[-1].removesuffix(".yaml")
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    def names(kind): return {d["metadata"]["name"] for d in by_kind.get(kind, [])}
    consumers = {"triage", "notify", "reporting"}  # scaled by consumer lag (KEDA), the others by CPU (HPA)
    for svc in ("intake", "triage", "notify", "reporting"):
        name = f"pulse-{svc}"
        scaler = "ScaledObject" if svc in consumers else "HorizontalPodAutoscaler"
        for kind in ("Deployment", "Service", "PodDisruptionBudget", scaler, "NetworkPolicy", "KafkaUser"):
            if name not in names(kind):
                errors.append(f"{overlay}: {kind} {name} missing")
        if svc in consumers and name in names("HorizontalPodAutoscaler"):
            errors.append(f"{overlay}: {name} has both an HPA and a ScaledObject (KEDA makes its own HPA)")
    for so in by_kind.get("ScaledObject", []):
        svc = so["metadata"]["name"].removeprefix("pulse-")
        kafka = [t for t in so["spec"]["triggers"] if t["type"] == "kafka"]
        if svc == "reporting":  # an exclusive consumer (one replica projects): lag would only add standbys
            if kafka:
                errors.append(f"{overlay}: ScaledObject reporting scales on lag, but one replica projects at a time")
        elif not kafka:
            errors.append(f"{overlay}: ScaledObject {svc} has no kafka (consumer lag) trigger")
        for t in kafka:
            if not t["metadata"]["consumerGroup"].startswith(f"{svc}-") or "authenticationRef" not in t:
                errors.append(f"{overlay}: ScaledObject {svc}: lag of one of its own groups, read with its KafkaUser")
            if t["metadata"]["bootstrapServers"].endswith(":9092"):
                errors.append(f"{overlay}: ScaledObject {svc} must use the TLS listener (9093)")
        partitions = max(
            (t["spec"]["partitions"] for t in by_kind.get("KafkaTopic", [])
             if t["spec"]["topicName"] in CONSUMES.get(svc, {})), default=0)  # fmt: skip
        if so["spec"].get("maxReplicaCount", 100) > partitions:
            errors.append(f"{overlay}: ScaledObject {svc}: maxReplicaCount above the partitions of its topics")
    kafkas = by_kind.get("Kafka", [])
    pools = by_kind.get("KafkaNodePool", [])
    roles = {r for p in pools for r in p["spec"]["roles"]}
    if len(kafkas) != 1 or not {"controller", "broker"} <= roles:
        errors.append(f"{overlay}: one Kafka with KRaft node pools for controllers and brokers expected")
    for k in kafkas:
        listeners = k["spec"]["kafka"]["listeners"]
        if not all(l["tls"] and l.get("authentication", {}).get("type") == "scram-sha-512" for l in listeners):
            errors.append(f"{overlay}: every Kafka listener must use TLS with SCRAM-SHA-512")
        if k["spec"]["kafka"].get("authorization", {}).get("type") != "simple":
            errors.append(f"{overlay}: Kafka authorization must be on (KafkaUser ACLs)")
    for d in by_kind.get("Deployment", []):
        svc = d["metadata"]["name"].removeprefix("pulse-")
        pod = d["spec"]["template"]["spec"]
        env = {e["name"]: e for c in pod["containers"] for e in c.get("env", [])}
        if svc not in ("intake", "triage", "notify", "reporting"):
            if any(name.startswith("PULSE_KAFKA") for name in env):
                errors.append(f"{overlay}: Deployment pulse-{svc} has Kafka settings but no broker")
            continue
        value = {name: e.get("value") for name, e in env.items()}
        if value.get("PULSE_KAFKA_SECURITY_PROTOCOL") != "SASL_SSL" or (
            env.get("PULSE_KAFKA_SASL_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("name")
            != f"pulse-{svc}"
        ) or value.get("PULSE_KAFKA_SASL_USERNAME") != f"pulse-{svc}" or not value.get("PULSE_KAFKA_SASL_MECHANISM", "").startswith("SCRAM-"):
            errors.append(f"{overlay}: Deployment pulse-{svc} must reach Kafka over SASL_SSL as its KafkaUser (SCRAM)")
        cafile = value.get("PULSE_KAFKA_SSL_CAFILE") or ""
        mounts = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
        if not str(value.get("PULSE_KAFKA_BOOTSTRAP", "")).endswith(":9093") or not any(cafile.startswith(m + "/") for m in mounts):
            errors.append(f"{overlay}: Deployment pulse-{svc}: the TLS listener (9093) and a mounted CA file expected")
    ingresses = by_kind.get("Ingress", [])
    backends = {p["backend"]["service"]["name"] for i in ingresses for r in i["spec"].get("rules", [])
                for p in r["http"]["paths"]}  # fmt: skip
    hosts = {r["host"] for i in ingresses for r in i["spec"].get("rules", [])}
    tls_hosts = {h for i in ingresses for t in i["spec"].get("tls", []) for h in t.get("hosts", [])}
    want = {"pulse-console", "pulse-intake", "pulse-triage", "pulse-notify", "pulse-reporting"}
    if not want <= backends:
        errors.append(f"{overlay}: the Ingress must route to {sorted(want - backends)}")
    if not hosts or not hosts <= tls_hosts:
        errors.append(f"{overlay}: every Ingress host needs TLS ({sorted(hosts - tls_hosts)})")
    for d in by_kind.get("Deployment", []):
        where = f"{overlay}: Deployment {d['metadata']['name']}"
        pod = d["spec"]["template"]["spec"]
        if "replicas" in d["spec"]:
            errors.append(f"{where}: leave replicas to its HorizontalPodAutoscaler (re-applying would reset the count)")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            errors.append(f"{where}: pod must run as non-root")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            if not sc.get("readOnlyRootFilesystem") or sc.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{where}: read-only root fs and no privilege escalation required")
            if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                errors.append(f"{where}: liveness probe must be /healthz")
            if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                errors.append(f"{where}: readiness probe must be /readyz")
            res = c.get("resources", {})
            if not res.get("requests", {}).get("cpu") or not res.get("limits", {}).get("memory"):
                errors.append(f"{where}: cpu request and memory limit required")
            if ":" not in c["image"] or c["image"].endswith(":latest"):
                errors.append(f"{where}: image must be pinned to a tag")
    for np in by_kind.get("NetworkPolicy", []):
        spec = np["spec"]
        if set(spec.get("policyTypes", [])) != {"Ingress", "Egress"}:
            errors.append(f"{overlay}: NetworkPolicy {np['metadata']['name']} must restrict ingress and egress")
        external = any("ipBlock" in peer for rule in spec.get("egress", []) for peer in rule.get("to", []))
        if external and np["metadata"]["name"] != "pulse-notify":
            errors.append(f"{overlay}: only notify may reach the outside ({np['metadata']['name']} does)")
    topics = {t["spec"]["topicName"]: t for t in by_kind.get("KafkaTopic", [])}
    if set(topics) != set(all_topics_with_dlqs()):
        errors.append(f"{overlay}: KafkaTopics {sorted(topics)} differ from pulse_libs topics")
    for name, t in topics.items():
        if t["spec"]["replicas"] != 3 or str(t["spec"]["config"].get("min.insync.replicas")) != "2":
            errors.append(f"{overlay}: topic {name} needs replicas 3 and min.insync.replicas 2")
if errors:
    print("\n".join("FAIL " + e for e in errors)); sys.exit(1)
print(f"ok   manifests: probes, resources, non-root read-only pods, PDB/NetworkPolicy per service, HPA or KEDA lag scaling, "
      f"Strimzi v1 KRaft cluster with TLS+SCRAM, KafkaUser per service, KafkaTopics, Ingress with TLS ({len(sys.argv) - 1} overlays)")
PY

# --- Prometheus ----------------------------------------------------------------------------------
for config in deploy/prometheus/prometheus.yml deploy/prometheus/prometheus-kubernetes.yml; do
  "$PROMTOOL" check config "$config" >&2 || die "promtool check config $config failed"
  ok "promtool check config $config"
done
"$PROMTOOL" check rules deploy/prometheus/rules/*.yml >&2 || die "promtool check rules failed"
ok "promtool check rules"
"$PROMTOOL" test rules deploy/prometheus/tests/*.yml >&2 || die "alert rule unit tests failed"
ok "promtool test rules (alert unit tests)"

# --- Grafana -------------------------------------------------------------------------------------
"$PY" - "$WORK/dashboard-exprs.yml" <<'PY'
import json, sys
from pathlib import Path
import yaml
uids, errors, exprs = set(), [], []
datasources = set()
for f in Path("deploy/grafana/provisioning/datasources").glob("*.yml"):
    datasources |= {d["uid"] for d in yaml.safe_load(f.read_text())["datasources"]}
for f in Path("deploy/grafana/provisioning/dashboards").glob("*.yml"):
    yaml.safe_load(f.read_text())
dashboards = sorted(Path("deploy/grafana/dashboards").glob("*.json"))
if not dashboards:
    errors.append("no dashboard in deploy/grafana/dashboards")
for f in dashboards:
    try:
        dash = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        errors.append(f"{f}: invalid JSON: {exc}"); continue
    if not dash.get("uid") or dash["uid"] in uids:
        errors.append(f"{f}: missing or duplicate uid")
    uids.add(dash.get("uid"))
    for panel in dash.get("panels", []):
        if panel.get("type") == "row":
            continue
        if panel.get("datasource", {}).get("uid") not in datasources:
            errors.append(f"{f}: panel {panel.get('title')!r} uses an unprovisioned datasource")
        for t in panel.get("targets", []):
            if not t.get("expr"):
                errors.append(f"{f}: panel {panel.get('title')!r} has an empty query")
            exprs.append(t.get("expr", "").replace("$__rate_interval", "5m"))
# Every query goes through promtool's PromQL parser as a recording rule.
rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
Path(sys.argv[1]).write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}))
if errors:
    print("\n".join("FAIL " + e for e in errors)); sys.exit(1)
print(f"ok   Grafana: {len(dashboards)} dashboard(s) valid JSON, provisioned datasource, {len(exprs)} queries")
PY
"$PROMTOOL" check rules "$WORK/dashboard-exprs.yml" >/dev/null || die "a dashboard query is not valid PromQL (promtool)"
ok "dashboard queries parse as PromQL"

# --- AsyncAPI -------------------------------------------------------------------------------------
# The event document is regenerated from libs and must match the checked-in one, then parsed by the
# official @asyncapi/parser (tools/asyncapi, installed once from its package-lock.json with npm ci).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || die "node and npm are required for the AsyncAPI check"
.venv/bin/python -m pulse_libs.events.schema --check --out docs/events >&2 || die "docs/events is stale: run make schemas"
if [[ ! -d tools/asyncapi/node_modules/@asyncapi/parser ]]; then
  log "installing @asyncapi/parser from tools/asyncapi/package-lock.json (npm ci)"
  (cd tools/asyncapi && npm ci --no-audit --no-fund --ignore-scripts --silent) >&2 || die "npm ci in tools/asyncapi failed"
fi
node tools/asyncapi/validate.mjs docs/events/asyncapi.yaml --strict | tail -n 1 \
  || die "docs/events/asyncapi.yaml does not pass the AsyncAPI parser (node tools/asyncapi/validate.mjs)"
ok "AsyncAPI 3 document valid (@asyncapi/parser, strict)"

echo "check-deploy: all checks passed"
