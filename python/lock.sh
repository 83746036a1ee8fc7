#!/usr/bin/env bash
# `npm run lock:python`: remakes the lock python/requirements.txt from python/requirements.in with pip-compile
# (pip-tools, in a throwaway virtual environment), every file of each pinned release hashed, so that the same lock
# installs here (CPython 3.11, x86_64) and in Lambda (CPython 3.13). Pins already in the lock are kept; to
# move a package to its newest release, delete its lines from the lock first. Optional argument: the file to
# write instead of requirements.txt (the test that checks the lock writes a copy).
set -euo pipefail
cd "$(dirname "$0")"
output="${1:-requirements.txt}"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
CUSTOM_COMPILE_COMMAND="npm run lock:python" "$tools/bin/pip-compile" --quiet --generate-hashes --strip-extras \
  --allow-unsafe --no-emit-find-links --output-file "$output" requirements.in
