# Shared by clients/generate and clients/run-tests: install the pinned SDK tools when missing.
# Sourced, not run; expects $here to be the clients/ folder.

# A virtualenv in clients/.venv with clients/requirements.txt, refreshed when that file changes.
ensure_python_tools() {
  local venv="$here/.venv" stamp="$here/.venv/.requirements"
  if [[ ! -x $venv/bin/python ]]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
      fi
      python3 -m venv "$venv"
    fi
  fi
  if ! cmp -s "$here/requirements.txt" "$stamp"; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
  fi
}

# node_modules in clients/typescript from package-lock.json, refreshed when the lock file changes.
ensure_node_tools() {
  local ts="$here/typescript" stamp="$here/typescript/node_modules/.package-lock.stamp"
  if ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
    fi
  fi
  if ! cmp -s "$ts/package-lock.json" "$stamp"; then
    (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$ts/package-lock.json" "$stamp"
  fi
}
