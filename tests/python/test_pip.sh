#!/usr/bin/env bash
# `pip install ./python` from the checkout, as a new user would (a virtual environment that sees
# Debian's numpy; offline, so no build isolation): the installed package, run from elsewhere
# with no TOONIFY_LIBRARY, finds the checkout's built library and the default models.
#   test_pip.sh PYTHON SOURCE_DIR LIBRARY SHARED_DIR WORK_DIR
set -euo pipefail
py="$1" src="$2" lib="$3" shared="$4" work="$5"
fail() { echo "[ FAIL ] pip: $*"; echo "0 passed, 1 failed"; exit 1; }
rm -rf "$work" && mkdir -p "$work"
"$py" -m venv --system-site-packages "$work/venv" || fail "python3 -m venv (python3-venv missing?)"
"$work/venv/bin/pip" install -q --no-index --no-build-isolation "$src/python" >"$work/pip.log" 2>&1 ||
    { cat "$work/pip.log"; fail "pip install $src/python"; }
rm -rf "$src/python/build" "$src/python/toonify.egg-info"  # pip's in-tree build leftovers
cd "$work"
unset TOONIFY_LIBRARY
out=$("$work/venv/bin/python" - "$shared/images/astronaut.png" <<'PY'
import sys, toonify
assert "site-packages" in toonify.__file__, toonify.__file__
c = toonify.Cartoonizer()
img = toonify.imread(sys.argv[1])
out = c(img, size=96, mode="plain")
print(toonify.__file__, c.style, out.shape, out.dtype)
PY
) || fail "the installed package did not convert"
echo "$out"
[[ "$out" == *"(96, 96, 3) uint8"* ]] || fail "unexpected output: $out"
echo "[  OK  ] pip install ./python"
echo "1 passed, 0 failed"
