#!/usr/bin/env bash
# The main job: the whole pipeline on the example tool, as a user runs it:
# build -> sign -> start the embedded registry -> publish -> install by name
# (signed index, digest, gatekeeper) -> consent -> run in the sandbox -> the audit trail.
# Uses its own MPP home and registry under .cache/demo so your real ones are untouched.
# Each step is one function, run in order at the bottom: add a step by adding a function and its line.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO="$PWD/.cache/demo"
export MPP_HOME="$DEMO/home"
REGISTRY_DIR="$DEMO/registry"
rm -rf "$DEMO" && mkdir -p "$MPP_HOME"
mpp() { node dist/cli.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
REGISTRY_PID=
trap '[ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null; true' EXIT

build() {
  step "mpp build examples/hello"
  mpp build examples/hello --out "$DEMO/hello.mpp"
}

sign() {
  step "mpp keygen, mpp sign (the publisher)"
  mpp keygen
  mpp sign "$DEMO/hello.mpp"
}

serve_registry() {
  step "mpp registry serve (the embedded registry, on loopback; it creates its index key)"
  # node itself in the background (not the mpp function), so that $! is the server to stop at exit.
  node dist/cli.js registry serve --dir "$REGISTRY_DIR" --port 0 --json > "$DEMO/registry.json" &
  REGISTRY_PID=$!
  for _ in $(seq 1 100); do grep -q '"url"' "$DEMO/registry.json" 2>/dev/null && break; sleep 0.1; done
  REGISTRY_URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url)' "$DEMO/registry.json")
  echo "registry at $REGISTRY_URL, index key in $REGISTRY_DIR/registry-key.pub.pem"
}

publish() {
  step "mpp registry token create, mpp registry add (pin the registry's key), mpp publish"
  MPP_REGISTRY_TOKEN=$(mpp registry token create --dir "$REGISTRY_DIR" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
  export MPP_REGISTRY_TOKEN
  mpp registry add local "$REGISTRY_URL" --key "$REGISTRY_DIR/registry-key.pub.pem"
  mpp publish "$DEMO/hello.mpp"
  echo "web page: $REGISTRY_URL/packages/mpp-examples/hello"
}

search() {
  step "mpp search"
  mpp search hello
}

install_untrusted() {
  step "mpp install by name (a host that has never seen the publisher's key refuses it)"
  # </dev/null: no one to ask, as on a host that must not trust a key by accident.
  if mpp install mpp-examples/hello </dev/null; then echo "demo: an untrusted key was accepted" >&2; exit 1; fi
}

trust() {
  step "mpp trust add (the user trusts the publisher's key explicitly)"
  mpp trust add "$MPP_HOME/keys/default.pub.pem" --name "MPP Examples"
}

install() {
  step "mpp install mpp-examples/hello@^0.1 (signed index -> download -> digest -> gatekeeper -> component prepared)"
  mpp install 'mpp-examples/hello@^0.1'
  mpp list
}

run_tools() {
  step "mpp run: each call verified again, in a clean sandboxed instance with what was granted, its output redacted and audited"
  mpp run mpp-examples/hello greet --input '{"name":"Ada","language":"fr"}'
  mpp run mpp-examples/hello count-words --input '{"text":"the cat saw the other cat"}'
}

consent() {
  step "mpp permissions, mpp grant (the user decides what the package may do; deny means it does not run)"
  mpp permissions mpp-examples/hello
  mpp grant mpp-examples/hello --deny
  if mpp run mpp-examples/hello greet --input '{"name":"Ada"}'; then echo "demo: a denied package ran" >&2; exit 1; fi
  mpp grant mpp-examples/hello --all
}

org_policy() {
  step "an organisation policy (added with MPP_ORG_POLICY_ADD; it can only restrict): a blocked version is refused at the next call"
  mkdir -p "$DEMO/org"
  printf '{ "mppOrgPolicy": 1, "name": "Demo Org", "packages": { "block": [ { "name": "mpp-examples/hello", "versions": "<1.0.0", "reason": "not reviewed yet" } ] } }\n' > "$DEMO/org/org-policy.json"
  MPP_ORG_POLICY_ADD="$DEMO/org" mpp policy show
  if MPP_ORG_POLICY_ADD="$DEMO/org" mpp run mpp-examples/hello greet --input '{"name":"Ada"}'; then echo "demo: a package blocked by policy ran" >&2; exit 1; fi
}

audit_trail() {
  step "mpp audit, mpp audit verify (every install, trust change, grant, call and refusal, hash-chained)"
  mpp audit
  mpp audit verify
}

refuse_bad_input() {
  step "mpp run with input its schema refuses (the tool is never called)"
  if mpp run mpp-examples/hello greet --input '{"nom":"Ada"}'; then echo "demo: invalid input was accepted" >&2; exit 1; fi
}

build
sign
serve_registry
publish
search
install_untrusted
trust
install
consent
run_tools
refuse_bad_input
org_policy
audit_trail
