#!/usr/bin/env bash
# Makes a container build context in DIR: the tracked sources (with uncommitted changes) and
# models/ with its symlinks resolved (they point into ../shared, outside any context).
#   tools/container-context.sh DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:?usage: tools/container-context.sh DIR}"
[[ -d "$root/models/face" ]] || { echo "models/ is missing: run tools/fetch-models.sh" >&2; exit 1; }
rm -rf "$dest" && mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | grep -zv '^models' |
    xargs -0 cp --parents -t "$dest")
mkdir -p "$dest/models"
(cd "$root/models" && find -L . -path ./.npm-cache -prune -o -path ./demo -prune -o -type f -print0 |
    xargs -0 cp -L --parents -t "$dest/models")
echo "$dest: $(du -sh "$dest" | cut -f1)"
