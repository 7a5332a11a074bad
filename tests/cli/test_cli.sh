#!/usr/bin/env bash
# End-to-end tests of the toonify command: real files in, real files out, exit codes and
# messages a person can act on.  Usage: test_cli.sh TOONIFY SHARED_DIR MAKE_PB
set -u
T="$1"
SHARED="$2"
MAKE_PB="$3"
FACES="$4" # the repo's models/ (tools/fetch-models.sh): face models
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
PHOTO="$SHARED/images/astronaut.png"
export TOONIFY_MODEL_DIR="$SHARED/models"
pass=0
fail=0

check() { # name, then a command that must succeed
    local name="$1"
    shift
    if "$@"; then
        pass=$((pass + 1))
        echo "[  OK  ] $name"
    else
        fail=$((fail + 1))
        echo "[ FAIL ] $name"
    fi
}
# run EXPECTED_RC CMD...: runs CMD, keeps stderr in $W/err, compares the exit code
run() {
    local want="$1"
    shift
    "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    if [[ $rc -ne $want ]]; then
        echo "  exit code $rc, expected $want: $*" >&2
        sed 's/^/  stderr: /' "$W/err" >&2
        return 1
    fi
}
ident() { "$T" identify "$1" | sed 's/^[^:]*: //'; }
err_has() { grep -q -- "$1" "$W/err" || { echo "  stderr lacks '$1':" >&2; cat "$W/err" >&2; return 1; }; }

[[ -f "$PHOTO" ]] || { echo "missing $PHOTO"; echo "0 passed, 1 failed"; exit 1; }

check "png out, size is the longest side" \
    bash -c "$(declare -f run ident); T=$T W=$W; run 0 $T $PHOTO -o $W/a.png --size 256 && [[ \"\$(ident $W/a.png)\" == 'png 256x256 channels=3 depth=8 orientation=1' ]]"
check "jpg and webp out" \
    bash -c "$(declare -f run ident); T=$T W=$W; run 0 $T $PHOTO -o $W/a.jpg --size 200 && run 0 $T $PHOTO -o $W/a.webp --size 200 && ident $W/a.jpg | grep -q '^jpeg 200x200' && ident $W/a.webp | grep -q '^webp 200x200'"
check "--format overrides the extension" \
    bash -c "$(declare -f run ident); T=$T W=$W; run 0 $T $PHOTO -o $W/x.out --format jpg --size 64 && ident $W/x.out | grep -q '^jpeg 64x64'"
check "stdin to stdout" \
    bash -c "$T - -o - --size 128 --format png <$PHOTO >$W/s.png && [[ \"\$($T identify $W/s.png | cut -d' ' -f2-3)\" == 'png 128x128' ]]"
check "several inputs into a directory" \
    bash -c "$(declare -f run); T=$T W=$W; cp $PHOTO $W/one.png && cp $PHOTO $W/two.png && run 0 $T $W/one.png $W/two.png -o $W/outdir --size 96 -f webp && [[ -f $W/outdir/one.webp && -f $W/outdir/two.webp ]]"
check "strength 1 and 0 differ, 0 is the photo" \
    bash -c "$(declare -f run); T=$T W=$W; run 0 $T $PHOTO -o $W/s1.png --size 0 --strength 1 && run 0 $T $PHOTO -o $W/s0.png --size 0 --strength 0 && ! cmp -s $W/s1.png $W/s0.png"
check "threads and band height do not change a byte" \
    bash -c "$(declare -f run); T=$T W=$W; run 0 $T $PHOTO -o $W/t1.png --size 160 -t 1 --band 3 && run 0 $T $PHOTO -o $W/t2.png --size 160 -t 2 --band 40 && run 0 $T $PHOTO -o $W/t3.png --size 160 --whole-image && cmp $W/t1.png $W/t2.png && cmp $W/t1.png $W/t3.png"
# Under AddressSanitizer the resident size includes its shadow memory and quarantine, which no
# plan counts: the sanitizer build checks that both figures are reported, the release build
# (CI's main run) that the plan bounds the measurement.
if [[ "${TOON_SANITIZED:-0}" == 1 ]]; then MEMCHECK='$3 > 0 && $5 > 0'; else MEMCHECK='$3 >= $5 && $5 > 0'; fi
check "verbose reports planned >= measured memory" \
    bash -c "$(declare -f run); T=$T W=$W; run 0 $T $PHOTO -o $W/v.png --size 256 -v && awk -F'[ =]' '/^memory:/ {ok = ($MEMCHECK)} END {exit !ok}' $W/err"
check "max-memory refusal names the figures and a size that fits" \
    bash -c "$(declare -f run err_has); T=$T W=$W; run 5 $T $PHOTO -o $W/m.png --size 4096 --max-memory 80M && err_has 'the limit is' && err_has 'would fit' && [[ ! -e $W/m.png ]]"
check "missing input: exit 3, names the file" \
    bash -c "$(declare -f run err_has); T=$T W=$W; run 3 $T $W/nope.jpg -o $W/n.png && err_has 'nope.jpg'"
check "corrupt input: exit 4, no output left behind" \
    bash -c "$(declare -f run err_has); T=$T W=$W; head -c 3000 $PHOTO > $W/cut.png && run 4 $T $W/cut.png -o $W/c.png && err_has 'cut.png' && [[ -z \"\$(ls $W | grep '^c.png')\" ]]"
check "not an image: exit 4" \
    bash -c "$(declare -f run err_has); T=$T W=$W; echo hello > $W/t.jpg && run 4 $T $W/t.jpg -o $W/t.png && err_has 'unsupported'"
check "hostile header (100000x100000 PNG) refused before decoding" \
    bash -c "$(declare -f run err_has); T=$T W=$W; python3 -c \"
import struct, sys, zlib
ihdr = b'IHDR' + struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
sys.stdout.buffer.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr[4:]) + chunk(b'IDAT', zlib.compress(bytes(4096))) + chunk(b'IEND', b''))
\" > $W/big.png && run 5 $T $W/big.png -o $W/b.png && err_has '100000'"
check "bad option values: exit 2" \
    bash -c "$(declare -f run); T=$T W=$W; run 2 $T $PHOTO -o $W/x.png --strength 2 && run 2 $T $PHOTO -o $W/x.png --format gif && run 2 $T $PHOTO && run 2 $T -o $W/x.png"
check "no model: exit 7 with the places looked at" \
    bash -c "$(declare -f run err_has); T=$T W=$W; run 7 $T $PHOTO -o $W/x.png --model $W/none && err_has 'no generator model'"
check "a model file that is not a generator: exit 7" \
    bash -c "$(declare -f run err_has); T=$T W=$W; head -c 100000 $SHARED/models/whitebox_cartoon_gan_fp16.tflite > $W/bad.tflite && run 7 $T $PHOTO -o $W/x.png --model $W/bad.tflite && err_has 'bad.tflite'"
check "info names the ISA, kernels and model" \
    bash -c "$T info | grep -q '^isa: ' && $T info | grep -q '^kernels: ' && $T info | grep -q '^model: .*tflite'"
check "fast precision runs (its distance from fp32: bench/precision)" \
    bash -c "$(declare -f run); T=$T W=$W; run 0 $T $PHOTO -o $W/f.png --size 128 --precision fast && run 0 $T $PHOTO -o $W/g.png --size 128 --precision fp32"
check "an official-layout style directory (.pb written from the TFLite weights) gives the same pixels" \
    bash -c "$(declare -f run err_has); T=$T W=$W; mkdir -p $W/styles/anime && \
        $MAKE_PB --eps 0.005001068115234375 --box 0.111083984375 $SHARED/models/whitebox_cartoon_gan_fp16.tflite $W/styles/anime/cartoon_bg.pb && \
        cp $W/styles/anime/cartoon_bg.pb $W/styles/anime/cartoon_h.pb && \
        run 0 $T models list --model $W/styles && grep -q 'style anime (graphdef)' $W/out && \
        run 0 $T models verify --model $W/styles && \
        run 0 $T $PHOTO -o $W/pb.png --size 128 --mode plain --model $W/styles --style anime && \
        run 0 $T $PHOTO -o $W/tfl.png --size 128 --mode plain --model $SHARED/models/whitebox_cartoon_gan_fp16.tflite && \
        cmp $W/pb.png $W/tfl.png && \
        run 7 $T $PHOTO -o $W/x.png --model $W/styles --style nope && err_has 'anime'"
check "faces found on the astronaut, hd and official modes run" \
    bash -c "$(declare -f run ident); T=$T W=$W; run 0 $T faces $PHOTO --models $FACES && grep -q '\"score\"' $W/out && \
        run 0 $T $PHOTO -o $W/hd.png --size 256 --mode hd --face-models $FACES && ident $W/hd.png | grep -q '^png 256x256' && \
        run 0 $T $PHOTO -o $W/off.png --size 0 --mode official --face-models $FACES && ident $W/off.png | grep -q '^png 512x512' && \
        ! cmp -s $W/hd.png $W/off.png"
# Issue 15 (10): an output never replaces an input, whatever the spelling (identity: dev+ino).
check "an output that is an input is refused (same path, ../ spelling, hard link, a later input)" \
    bash -c "$(declare -f run err_has); T=$T W=$W; mkdir -p $W/same && cp $PHOTO $W/same/photo.png && ln $W/same/photo.png $W/same/link.png && \
        cp $PHOTO $W/same/b.webp && cp $PHOTO $W/same/b.png && \
        run 2 $T $W/same/photo.png -o $W/same/ --size 64 && err_has 'is the input' && cmp $W/same/photo.png $PHOTO && \
        run 2 $T $W/same/photo.png -o $W/same/../same/photo.png --size 64 && err_has 'is the input' && cmp $W/same/photo.png $PHOTO && \
        run 2 $T $W/same/photo.png -o $W/same/link.png --size 64 && err_has 'is the input' && cmp $W/same/link.png $PHOTO && \
        run 2 $T $W/same/b.webp $W/same/b.png -o $W/same --size 64 && err_has 'b.webp' && cmp $W/same/b.png $PHOTO && \
        [[ -z \"\$(ls $W/same | grep part)\" ]]"
check "inputs with the same base name get unique outputs, with a message" \
    bash -c "$(declare -f run err_has ident); T=$T W=$W; mkdir -p $W/ca $W/cb $W/cc && cp $PHOTO $W/ca/x.png && cp $PHOTO $W/cb/x.png && cp $PHOTO $W/cc/x.jpg && \
        run 0 $T $W/ca/x.png $W/cb/x.png $W/cc/x.jpg -o $W/cout --size 64 && err_has 'cb/x.png: .*x-2.png' && err_has 'cc/x.jpg: .*x-3.png' && \
        [[ \"\$(ls $W/cout | tr '\n' ' ')\" == 'x-2.png x-3.png x.png ' ]] && ident $W/cout/x-3.png | grep -q '^png 64x64'"
check "an existing output that is not an input is replaced" \
    bash -c "$(declare -f run ident); T=$T W=$W; echo old > $W/exists.png && run 0 $T $PHOTO -o $W/exists.png --size 64 && ident $W/exists.png | grep -q '^png 64x64'"
# Issue 15 (11): an empty -o, an extension no encoder has, a closed output pipe.
check "-o '': exit 2 with a message" \
    bash -c "$(declare -f run err_has); T=$T W=$W; cd $W && run 2 $T $PHOTO -o '' --size 64 && err_has 'empty' && [[ -z \"\$(ls $W | grep part)\" ]]"
check "-o x.gif without --format: exit 2 naming the formats, nothing written" \
    bash -c "$(declare -f run err_has); T=$T W=$W; run 2 $T $PHOTO -o $W/x.gif --size 64 && err_has 'png, jpg' && err_has 'gif' && [[ ! -e $W/x.gif ]]"
cat >"$W/closed_pipe.py" <<'EOF'
# closed_pipe.py STREAM CMD...: runs CMD with STREAM (stdout or stderr) a pipe whose reader has
# gone; prints its exit status (negative: the signal that killed it) and its stderr.
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
which, cmd = sys.argv[1], sys.argv[2:]
if which == "stdout":
    p = subprocess.run(cmd, stdout=w, stderr=subprocess.PIPE)
    err = p.stderr.decode()
else:
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=w)
    err = ""
print(p.returncode)
sys.stdout.write(err)
EOF
check "a closed stdout pipe: exit 3, a write error on stdout" \
    bash -c "cd $W && python3 $W/closed_pipe.py stdout $T $PHOTO -o - --size 64 --format png >$W/cp.txt; cat $W/cp.txt >&2; [[ \"\$(head -1 $W/cp.txt)\" == 3 ]] && grep -q 'cannot write to stdout' $W/cp.txt"
check "a closed stderr pipe does not kill a conversion, no temporary file is left" \
    bash -c "$(declare -f ident); T=$T; mkdir -p $W/pipe && python3 $W/closed_pipe.py stderr $T $PHOTO -o $W/pipe/v.png --size 64 -v >$W/cp.txt; [[ \"\$(head -1 $W/cp.txt)\" == 0 ]] && ident $W/pipe/v.png | grep -q '^png 64x64' && [[ \"\$(ls $W/pipe)\" == v.png ]]"
# Issue 15 (12): --model and --models are the same option in every command.
check "--models and --model are accepted by convert, info, models list and faces" \
    bash -c "$(declare -f run err_has); T=$T W=$W; TFL=$SHARED/models/whitebox_cartoon_gan_fp16.tflite; \
        run 0 $T $PHOTO -o $W/ms.png --size 64 --mode plain --models \$TFL && run 0 $T $PHOTO -o $W/m1.png --size 64 --mode plain --model \$TFL && cmp $W/ms.png $W/m1.png && \
        run 0 $T info --models \$TFL && grep -q '^model: .*tflite' $W/out && \
        run 0 $T models list --models $SHARED/models && grep -q 'style ' $W/out && \
        run 0 $T faces $PHOTO --model $FACES && grep -q '\"score\"' $W/out && \
        $T --help | grep -q -- '--models' && $T serve --help | grep -q -- '--model[ ,]' && $T worker --help | grep -q -- '--model[ ,]'"
# Issue 15 (13): official mode gives back the input's size unless --size says otherwise.
check "official mode without --size: the input's size, the same bytes as --size 0" \
    bash -c "$(declare -f run ident); T=$T W=$W; run 0 $T $PHOTO -o $W/od.png --mode official --face-models $FACES && \
        run 0 $T $PHOTO -o $W/o0.png --mode official --size 0 --face-models $FACES && ident $W/od.png | grep -q '^png 512x512' && cmp $W/od.png $W/o0.png && \
        run 0 $T $PHOTO -o $W/o3.png --mode official --size 300 --face-models $FACES && ident $W/o3.png | grep -q '^png 300x300'"
check "--help and --version" \
    bash -c "$T --help | grep -q 'usage: toonify' && $T --version | grep -q '^toonify '"

# Issue 18 (5): the CLI (not the library) sets OpenMP's spin count for itself, executing
# itself again with GOMP_SPINCOUNT=1000, unless the user set it or OMP_WAIT_POLICY.
# spin_env ENV...: toonify's GOMP_SPINCOUNT (empty: none) while it waits on a stdin that
# stays open, with ENV added to an environment without either variable.
spin_env() {
    rm -f "$W/fifo" && mkfifo "$W/fifo"
    env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY "$@" "$T" - -o "$W/spin.png" <"$W/fifo" 2>/dev/null &
    local pid=$! v="" i
    exec 9>"$W/fifo"
    for i in $(seq 50); do
        v=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^GOMP_SPINCOUNT=//p')
        [[ -n $v ]] && break
        sleep 0.1
    done
    exec 9>&-
    wait "$pid"
    echo "$v"
}
check "the CLI sets GOMP_SPINCOUNT=1000 for itself, unless the user set it or OMP_WAIT_POLICY" \
    bash -c "$(declare -f spin_env); T=$T W=$W; [[ \$(spin_env) == 1000 ]] && \
        [[ \$(spin_env GOMP_SPINCOUNT=5) == 5 ]] && [[ -z \$(spin_env OMP_WAIT_POLICY=passive) ]]"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
