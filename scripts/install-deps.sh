#!/usr/bin/env bash
# install-deps.sh installs the system tools the tests need, from Debian's
# packages, when they are missing. It changes nothing when they are present.
#
#   qpdf           qpdf --check on every sealed output
#   poppler-utils  pdfsig (another verifier) and pdftoppm (renders the seal)
#   postgresql     the server binaries; tests start a throwaway cluster with
#                  initdb in a temporary directory (internal/pgtest)
set -euo pipefail

need=()
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
{ command -v pdfsig >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; } || need+=(poppler-utils)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${need[*]} from Debian" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to apt-get install ${need[*]}; run: sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
