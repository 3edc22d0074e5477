#!/usr/bin/env bash
# The main job: the whole pipeline on the example tool, as a user runs it.
# Uses its own MPP home under .cache/demo so your real one is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPP_HOME="$PWD/.cache/demo/home"
rm -rf .cache/demo && mkdir -p "$MPP_HOME"
mpp() { node dist/cli.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "mpp build examples/hello"
mpp build examples/hello --out .cache/demo/hello.mpp

step "mpp keygen"
mpp keygen

step "mpp sign"
mpp sign .cache/demo/hello.mpp

step "mpp verify (a host that has never seen this key refuses it)"
if mpp verify .cache/demo/hello.mpp; then echo "demo: an untrusted key was accepted" >&2; exit 1; fi

step "mpp trust add (the user trusts the publisher's key explicitly)"
mpp trust add "$MPP_HOME/keys/default.pub.pem" --name "MPP Examples"

step "mpp verify"
mpp verify .cache/demo/hello.mpp

step "mpp inspect"
mpp inspect .cache/demo/hello.mpp

step "mpp install (verified again, component prepared for offline start)"
mpp install .cache/demo/hello.mpp

step "mpp list"
mpp list

step "mpp run: each call in a clean sandboxed instance, nothing granted"
mpp run mpp-examples/hello greet --input '{"name":"Ada","language":"fr"}'
mpp run mpp-examples/hello count-words --input '{"text":"the cat saw the other cat"}'

step "mpp run with input its schema refuses (the tool is never called)"
if mpp run mpp-examples/hello greet --input '{"nom":"Ada"}'; then echo "demo: invalid input was accepted" >&2; exit 1; fi
