#!/usr/bin/env bash
# The gates' Python tools (cfn-lint) in a project virtualenv, .venv-tools/, built from the pins in
# scripts/gates/tools-constraints.txt. Idempotent: the venv is rebuilt only when the pins or the
# interpreter change. Needs PyPI (or pip's cache) the first time.
#
# usage: scripts/gates/tools.sh install   build or refresh the venv (quiet when it is up to date)
#        scripts/gates/tools.sh cfn-lint  install if needed, then print the path of cfn-lint
#
# Environment: GATES_PYTHON (default: the first of python3, python3.13, python3.12, python3.11 that
# runs and is 3.9 or later), GATES_VENV (default: .venv-tools).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${GATES_VENV:-$ROOT/.venv-tools}"
CONSTRAINTS="$ROOT/scripts/gates/tools-constraints.txt"
MARKER="$VENV/.cmp-tools-inputs"

log() { echo "[gates-tools] $*" >&2; }
die() { echo "[gates-tools] ERROR: $*" >&2; exit 1; }

pick_python() {
  if [[ -n "${GATES_PYTHON:-}" ]]; then echo "$GATES_PYTHON"; return; fi
  local py
  for py in python3 python3.13 python3.12 python3.11; do
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 9) else 1)' >/dev/null 2>&1; then
      echo "$py"
      return
    fi
  done
  die "no Python 3.9 or later found (set GATES_PYTHON)"
}

inputs_hash() { # everything that decides the venv's contents
  { "$1" -c 'import sys; print(sys.version)'; cat "$CONSTRAINTS"; } | sha256sum | cut -d' ' -f1
}

install() {
  local py hash t0=$SECONDS
  py="$(pick_python)"
  hash="$(inputs_hash "$py")"
  if [[ -x "$VENV/bin/cfn-lint" && -f "$MARKER" && "$(cat "$MARKER")" == "$hash" ]]; then return 0; fi
  log "creating ${VENV#"$ROOT"/} with $("$py" --version 2>&1) ($(grep -m1 '^cfn-lint==' "$CONSTRAINTS"))"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS" cfn-lint ||
    die "pip install cfn-lint failed (PyPI or pip's cache is needed the first time)"
  echo "$hash" >"$MARKER"
  log "ready in $((SECONDS - t0)) s: $("$VENV/bin/cfn-lint" --version)"
}

case "${1:-}" in
  install) install ;;
  cfn-lint) install && echo "$VENV/bin/cfn-lint" ;;
  *) echo "usage: $(basename "$0") install|cfn-lint" >&2; exit 2 ;;
esac
