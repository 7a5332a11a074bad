#!/usr/bin/env bash
# Installs what toonify needs to build, test and benchmark on Debian 12, from Debian's archive.
#   tools/install-deps.sh          build and test dependencies
#   tools/install-deps.sh --bench  also the peers' needs (node and npm)
# python3-opencv is a test dependency: test_pupil_cv2 compares the pupil finder with OpenCV.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang clang-format
      libdnnl-dev libjpeg62-turbo-dev libspng-dev libwebp-dev libexif-dev
      libmicrohttpd-dev libzip-dev libcjson-dev libhiredis-dev redis-server nginx
      python3 ca-certificates time
      python3-numpy python3-venv python3-setuptools  # the Python package's tests (python/)
      python3-opencv)                                # test_pupil_cv2 compares with OpenCV
if [[ "${1:-}" == "--bench" ]]; then
    pkgs+=(nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian on this machine: only ask for them if absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# ---- begin: page tests of `toonify serve` (issue 4) -----------------------------------------
# Debian's chromium for the browser tests (tests/e2e-web), node + npm to run them, and
# playwright-core (pinned, from npm, no browser download) via tools/setup-web-tests.sh.
web_missing=()
dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed" || web_missing+=(chromium)
command -v node >/dev/null || web_missing+=(nodejs)
command -v npm >/dev/null || web_missing+=(npm)
if ((${#web_missing[@]})); then
    echo "installing: ${web_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${web_missing[@]}" >/dev/null
fi
"$(dirname "$0")/setup-web-tests.sh"
# ---- end: page tests of `toonify serve` ----------------------------------------------------
echo "dependencies: ok"
