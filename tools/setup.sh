#!/usr/bin/env bash
# Sets up a checkout on Debian 12: system packages, models, build.  Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/install-deps.sh" "$@"
"$root/tools/fetch-models.sh"
make -C "$root" build
