#!/usr/bin/env bash
# Installs what the page tests (tests/e2e-web) need besides Debian's chromium: playwright-core,
# pinned, from npm, into $TOONIFY_WEB_TESTS_DIR (default ~/.cache/toonify-web-tests).  No browser
# is downloaded: the tests drive /usr/bin/chromium.
set -euo pipefail
VERSION=1.65.1
DIR="${TOONIFY_WEB_TESTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/toonify-web-tests}"
PKG="$DIR/node_modules/playwright-core/package.json"
if [[ -f "$PKG" ]] && grep -q "\"version\": \"$VERSION\"" "$PKG"; then
    echo "playwright-core $VERSION: ok ($DIR)"
    exit 0
fi
command -v npm >/dev/null || { echo "setup-web-tests: npm is missing (apt-get install npm)" >&2; exit 1; }
mkdir -p "$DIR"
cd "$DIR"
[[ -f package.json ]] || echo '{"name": "toonify-web-tests", "private": true}' >package.json
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --save-exact --loglevel=error \
    "playwright-core@$VERSION"
echo "playwright-core $VERSION: installed in $DIR"
