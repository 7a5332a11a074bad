#!/usr/bin/env bash
# Installs the build into a temporary prefix and uses it as a user would.
#   test_install.sh BUILD_DIR USE_TOONIFY_C SHARED_DIR WORK_DIR
set -euo pipefail
build="$1" prog="$2" shared="$3" work="$4"
prefix="$work/prefix"
n_fail=0 n_ok=0
check() { # NAME COMMAND...: runs it, reports
    if "${@:2}" >"$work/out.txt" 2>&1; then echo "[  OK  ] $1"; n_ok=$((n_ok + 1)); else
        echo "[ FAIL ] $1"; sed 's/^/    /' "$work/out.txt"; n_fail=$((n_fail + 1)); fi
}
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
lib=$(find "$prefix" -name libtoonify.so | head -n1)
libdir=${lib#"$prefix/"} && libdir=${libdir%/libtoonify.so}

check "layout" test -x "$prefix/bin/toonify" -a -n "$libdir" -a -e "$prefix/${libdir:-x}/libtoonify.a" \
    -a -f "$prefix/include/toonify/toonify.h" -a -f "$prefix/include/toonify/status.h" \
    -a -f "$prefix/share/man/man1/toonify.1" -a -f "$prefix/$libdir/pkgconfig/toonify.pc" \
    -a -d "$prefix/share/toonify/models/face"
check "soname" bash -c "readelf -d '$prefix/$libdir/libtoonify.so' | grep -q 'SONAME.*libtoonify.so.0'"
# Only the public API is exported: every defined dynamic symbol is a function of toonify.h.
check "exports only the public API" bash -c "
    nm -D --defined-only '$prefix/$libdir/libtoonify.so' | awk '\$2 ~ /[TDB]/ {print \$3}' |
    sed 's/@.*//' | while read s; do grep -q \"\\b\$s(\" '$prefix'/include/toonify/*.h ||
    { echo \"exported but not public: \$s\"; exit 1; }; done"
check "man page renders" bash -c "MANWIDTH=80 man -l '$prefix/share/man/man1/toonify.1' | grep -q 'toonify worker'"

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
cc=${CC:-cc}
check "build with pkg-config (shared)" bash -c "$cc -std=c17 -Wall -Werror '$prog' -o '$work/use_shared' \
    \$(pkg-config --cflags --libs toonify) -Wl,-rpath,'$prefix/$libdir'"
check "built program is linked to libtoonify.so.0" bash -c "ldd '$work/use_shared' | grep -q 'libtoonify.so.0 => $prefix'"
check "build with pkg-config --static (libtoonify.a)" bash -c "$cc -std=c17 '$prog' -o '$work/use_static' \
    \$(pkg-config --cflags toonify) '$prefix/$libdir/libtoonify.a' \
    \$(pkg-config --static --libs toonify | sed 's/-ltoonify//') -fopenmp"

# Run from an empty directory with no TOONIFY_MODEL_DIR: the models come from the prefix.
mkdir -p "$work/elsewhere" && cd "$work/elsewhere"
unset TOONIFY_MODEL_DIR
check "shared program finds PREFIX/share/toonify/models" bash -c \
    "'$work/use_shared' | tee /dev/stderr | grep -q -- '-> 32x24 from $prefix/share/toonify/models/'"
check "installed toonify finds PREFIX/share/toonify/models" bash -c \
    "'$prefix/bin/toonify' info | tee /dev/stderr | grep -q 'model: $prefix/share/toonify/models/'"
check "installed toonify converts" "$prefix/bin/toonify" "$shared/images/astronaut.png" -o out.png \
    --size 64 --mode plain --no-progress
check "TOONIFY_MODEL_DIR comes first" bash -c \
    "TOONIFY_MODEL_DIR='$shared/models' '$prefix/bin/toonify' info | grep -q 'model: $shared/models/'"
echo "$n_ok passed, $n_fail failed"
exit $((n_fail > 0))
