#!/bin/sh
# Installs the benchmark's peer, ONNX Runtime for Node.js, into a directory of its own.
#
# Usage: tools/setup_peers.sh [DIR]        (DIR defaults to build/peers)
#
# bench/bench.py runs ../shared/peers/run_ort.js with NODE_PATH=DIR/node_modules. The versions are
# pinned exactly so that two benchmark runs compare the same peer. Running the script again does
# nothing when the pinned versions are already there. The only network use is `npm install`
# (which prefers npm's local cache); ONNXRUNTIME_NODE_INSTALL=skip stops onnxruntime-node's
# install script from downloading GPU binaries, since the CPU build ships inside the package.
set -eu

dir=${1:-build/peers}
pins="onnxruntime-node@1.30.0 pngjs@7.0.0 jpeg-js@0.4.4"

command -v node >/dev/null 2>&1 || { echo "setup_peers: node is not installed" >&2; exit 1; }

# Prints the names of the pinned packages that are missing or at another version.
missing() {
    for pin in $pins; do
        name=${pin%@*}
        want=${pin##*@}
        have=$(node -e "try { console.log(require(process.argv[1]).version) } catch (e) {}" \
            "$dir/node_modules/$name/package.json" 2>/dev/null || true)
        [ "$have" = "$want" ] || echo "$name"
    done
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ -z "$(missing)" ]; then
    echo "setup_peers: $pins already in $dir"
else
    command -v npm >/dev/null 2>&1 || { echo "setup_peers: npm is not installed" >&2; exit 1; }
    echo "setup_peers: installing $pins into $dir"
    # A package.json of our own keeps npm from walking up to an unrelated project.
    [ -f "$dir/package.json" ] || echo '{ "private": true }' >"$dir/package.json"
    # shellcheck disable=SC2086 # $pins is a list of words on purpose.
    (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --save-exact --no-package-lock \
        --no-audit --no-fund --prefer-offline $pins)
    left=$(missing)
    if [ -n "$left" ]; then
        echo "setup_peers: after npm install, still missing or wrong:" \
            "$(echo "$left" | tr '\n' ' ')" >&2
        exit 1
    fi
fi

# Loading the package also loads its native binding, which is what fails on a broken install.
if ! (cd "$dir" && node -e "require('onnxruntime-node')"); then
    echo "setup_peers: require('onnxruntime-node') fails in $dir" >&2
    exit 1
fi
echo "setup_peers: ok, NODE_PATH=$dir/node_modules"
