#!/usr/bin/env bash
# install-deps.sh installs the system tools the tests need, from Debian's
# packages, and the npm packages of tools/pdfjs, when they are missing. It
# changes nothing when they are present.
#
#   qpdf           qpdf --check on every sealed output
#   poppler-utils  pdfsig (another verifier) and pdftoppm (renders the seal)
#   mupdf-tools    mutool draw: MuPDF renders the seal too
#   nodejs, npm    run pdf.js (tools/pdfjs: pdfjs-dist, the third renderer)
#   fonts-arphic-uming  AR PL UMing, a Ming (宋体-style) CJK font: the glyph
#                  outlines of the seal's text (sealimage)
#   postgresql     the server binaries; tests start a throwaway cluster with
#                  initdb in a temporary directory (internal/pgtest)
#   chromium       headless Chromium: the public verification page's tests
#                  (verifyweb) drive it with chromedp
#   default-jdk-headless, libbcprov-java, libbcpkix-java, libbcutil-java
#                  BouncyCastle, as Java stacks use it, validates the county
#                  TSA's tokens (tsa/bc_test.go runs tsa/testdata/TSPCheck.java)
#
# The npm packages are those of tools/pdfjs/package-lock.json, installed by
# `npm ci` into tools/pdfjs/node_modules (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
{ command -v pdfsig >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; } || need+=(poppler-utils)
command -v mutool >/dev/null 2>&1 || need+=(mupdf-tools)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -f /usr/share/fonts/truetype/arphic/uming.ttc ] || need+=(fonts-arphic-uming)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/bcprov.jar ] || need+=(libbcprov-java)
[ -f /usr/share/java/bcpkix.jar ] || need+=(libbcpkix-java)
[ -f /usr/share/java/bcutil.jar ] || need+=(libbcutil-java)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]} from Debian" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to apt-get install ${need[*]}; run: sudo $0" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# pdf.js: install again when the lock file is newer than what was installed.
pdfjs=tools/pdfjs
stamp=$pdfjs/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$pdfjs/package-lock.json" -nt "$stamp" ]; then
  echo "install-deps: npm ci in $pdfjs" >&2
  (cd "$pdfjs" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
