#!/usr/bin/env bash
# deadcode.sh fails when a function in the module is reached neither from a
# program (cmd/...) nor from a test. deadcode itself lists such functions
# and exits 0, so this script is what turns a finding into a failure.
#
# A function that must stay although nothing reaches it is named in ALLOW
# below, with a comment that says why. deadcode is pinned in go.mod as a
# tool (go tool deadcode).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# ALLOW lists functions that may be unreachable, as import/path.Func or
# import/path.Type.Method, each below a comment that says why it stays.
# None today.
ALLOW=(
)

format='{{range .Funcs}}{{$.Path}}.{{.Name}}{{"\t"}}{{.Position.File}}:{{.Position.Line}}{{"\n"}}{{end}}'
found=$("$GO" tool deadcode -test -f "$format" ./...)

dead=()
while IFS=$'\t' read -r fn pos; do
  [ -n "$fn" ] || continue
  allowed=false
  for a in ${ALLOW[@]+"${ALLOW[@]}"}; do
    if [ "$a" = "$fn" ]; then
      allowed=true
    fi
  done
  if ! $allowed; then
    dead+=("${pos#"$PWD"/}: unreachable func: $fn")
  fi
done <<<"$found"

if [ ${#dead[@]} -gt 0 ]; then
  echo "deadcode: no program or test reaches these functions; delete them, or add them to ALLOW in $0 with the reason:"
  printf '  %s\n' "${dead[@]}"
  exit 1
fi
