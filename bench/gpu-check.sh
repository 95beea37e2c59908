#!/usr/bin/env bash
# The WebGPU check for a bare GPU machine (no Node.js, no network, at most 64 MiB carried to it; e.g.
# one H200 with CUDA 13 and NVIDIA's Vulkan driver under /usr/local/nvidia).
#
#   bash bench/gpu-check.sh prepare BUNDLE FIXTURE_DIR...   here (built lib, internet for apt-get download)
#   bash bench/gpu-check.sh run BUNDLE OUT                    there; writes OUT/gpu-check.json
#
# prepare puts into BUNDLE: node.xz (this machine's node binary), ort.tar.xz (onnxruntime-node with
# libonnxruntime.so.1 and its binding, onnxruntime-common), lib.tar.xz (lib/dist), fixtures.tar.xz (the
# golden fixture folders given), libvulkan1_*.deb (apt-get download), MANIFEST; and checks the total
# is ≤ 64 MiB. run unpacks into a temp folder, finds a Vulkan driver (NVIDIA's ICD, or one written for
# /usr/local/nvidia/lib64/libGLX_nvidia.so.0, else whatever the loader finds: lavapipe here), then runs
# lib/dist/bench/gpu-check.js: verify-golden of every fixture on webgpu, the Pythia-410M-shaped plain
# and perturbed passes, GPU vs CPU log-probs, the share of nodes on the GPU (see that file).
#   GPU_CHECK_SHAPE=tiny       a reduced shape for trying the script on a CPU Vulkan driver (lavapipe)
#   GPU_CHECK_SENTENCES=N      sentences of the timed passes (default 64)
#   GPU_CHECK_ICD=FILE         a Vulkan ICD json to use instead of searching
set -euo pipefail
LIMIT=$((64 * 1024 * 1024))
log() { printf '[gpu-check] %s\n' "$*" >&2; }
die() {
  printf '[gpu-check] %s\n' "$*" >&2
  exit 1
}

# xz without the xz binary: python3's lzma
unxz_to() { # unxz_to FILE.xz DEST
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"
  else
    die "neither xz nor python3 to unpack $1"
  fi
}
untar_xz() { # untar_xz FILE.tar.xz DIR
  if command -v xz >/dev/null 2>&1; then
    tar -xJf "$1" -C "$2"
  else
    python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
  fi
}

prepare() {
  local bundle=$1
  shift
  [ $# -gt 0 ] || die "usage: gpu-check.sh prepare BUNDLE FIXTURE_DIR..."
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  [ -f "$root/lib/dist/bench/gpu-check.js" ] || die "lib is not built: npm run build"
  local ort="$root/node_modules/onnxruntime-node" common="$root/node_modules/onnxruntime-common"
  [ -f "$ort/bin/napi-v6/linux/x64/libonnxruntime.so.1" ] || die "onnxruntime-node's Linux x64 binaries not found under $ort"
  mkdir -p "$bundle"
  bundle=$(cd "$bundle" && pwd)
  local node stamp
  node=$(readlink -f "$(command -v node)")
  stamp="$node $(stat -c '%s %Y' "$node")"
  # the node binary's compression takes minutes: kept when it is the same binary as last time
  if [ -f "$bundle/node.xz" ] && [ "$(cat "$bundle/.node-source" 2>/dev/null)" = "$stamp" ]; then
    log "node: $node ($(node -v)), node.xz kept"
    find "$bundle" -maxdepth 1 \( -name '*.xz' ! -name node.xz -o -name '*.deb' -o -name MANIFEST \) -delete
  else
    rm -f "$bundle"/*.xz "$bundle"/*.deb "$bundle"/MANIFEST
    log "node: $node ($(node -v))"
    xz -6 -T0 -c "$node" >"$bundle/node.xz"
    echo "$stamp" >"$bundle/.node-source"
  fi
  log "onnxruntime-node $(node -p "require('$ort/package.json').version")"
  tar -C "$root" -cJf "$bundle/ort.tar.xz" \
    node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist \
    node_modules/onnxruntime-node/bin/napi-v6/linux/x64 \
    node_modules/onnxruntime-common/package.json node_modules/onnxruntime-common/dist/cjs
  tar -C "$root" -cJf "$bundle/lib.tar.xz" lib/package.json lib/dist
  local stage
  stage=$(mktemp -d)
  mkdir -p "$stage/fixtures"
  for f in "$@"; do
    [ -f "$f/config.json" ] || die "$f: not a fixture folder (no config.json)"
    cp -a "$f" "$stage/fixtures/$(basename "$f")"
  done
  tar -C "$stage" -cJf "$bundle/fixtures.tar.xz" fixtures
  rm -rf "$stage"
  (cd "$bundle" && apt-get download libvulkan1 >/dev/null) || die "apt-get download libvulkan1 failed"
  (cd "$bundle" && ls -l --time-style=+ | awk 'NR>1{print $5, $NF}' >MANIFEST && sha256sum ./*.xz ./*.deb >>MANIFEST)
  local total
  total=$(du -cb "$bundle"/* | tail -1 | cut -f1)
  log "bundle $bundle: $((total / 1024 / 1024)) MiB ($total bytes)"
  [ "$total" -le "$LIMIT" ] || die "bundle is $total bytes, over the 64 MiB that can be carried"
}

find_icd() {
  if [ -n "${GPU_CHECK_ICD:-}" ]; then
    echo "$GPU_CHECK_ICD"
    return
  fi
  local f
  for d in /usr/local/nvidia /etc/vulkan/icd.d /usr/share/vulkan/icd.d; do
    f=$(find "$d" -name 'nvidia_icd*.json' 2>/dev/null | head -1 || true)
    if [ -n "$f" ]; then
      echo "$f"
      return
    fi
  done
  for lib in /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0; do
    if [ -e "$lib" ]; then
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$WORK/nvidia_icd.json"
      echo "$WORK/nvidia_icd.json"
      return
    fi
  done
}

run_check() {
  local bundle out
  bundle=$(cd "$1" && pwd)
  mkdir -p "$2"
  out=$(cd "$2" && pwd)
  WORK=$(mktemp -d /tmp/dirmag-gpu-check.XXXXXX)
  log "unpacking into $WORK"
  unxz_to "$bundle/node.xz" "$WORK/node"
  chmod +x "$WORK/node"
  mkdir -p "$WORK/app" "$WORK/vk"
  untar_xz "$bundle/ort.tar.xz" "$WORK/app"
  untar_xz "$bundle/lib.tar.xz" "$WORK/app"
  untar_xz "$bundle/fixtures.tar.xz" "$WORK"
  local libpath=/usr/local/nvidia/lib64:/usr/local/nvidia/lib
  local deb
  deb=$(ls "$bundle"/libvulkan1_*.deb | head -1)
  if command -v dpkg-deb >/dev/null 2>&1; then
    dpkg-deb -x "$deb" "$WORK/vk"
  else
    (cd "$WORK/vk" && ar x "$deb" && untar_xz data.tar.xz .)
  fi
  libpath="$WORK/vk/usr/lib/x86_64-linux-gnu:$libpath"
  export LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local icd
  icd=$(find_icd || true)
  if [ -n "$icd" ]; then
    export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
    log "Vulkan ICD: $icd"
  else
    log "no NVIDIA Vulkan ICD found: the loader picks (e.g. lavapipe)"
  fi
  export XDG_RUNTIME_DIR="$WORK/xdg"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
  local fixtures
  fixtures=$(find "$WORK/fixtures" -mindepth 1 -maxdepth 1 -type d | sort | paste -sd, -)
  log "node $("$WORK/node" -v); fixtures: $(echo "$fixtures" | tr ',' '\n' | wc -l)"
  local rc=0
  "$WORK/node" "$WORK/app/lib/dist/bench/gpu-check.js" --device webgpu --fixtures "$fixtures" \
    --out "$out/gpu-check.json" --cache "$WORK/cache" --shape "${GPU_CHECK_SHAPE:-pythia-410m}" \
    --sentences "${GPU_CHECK_SENTENCES:-64}" 2> >(tee "$out/gpu-check.log" >&2) || rc=$?
  rm -rf "$WORK"
  log "exit $rc; result: $out/gpu-check.json"
  return $rc
}

case "${1:-}" in
  prepare)
    shift
    prepare "$@"
    ;;
  run)
    [ $# -eq 3 ] || die "usage: gpu-check.sh run BUNDLE OUT"
    run_check "$2" "$3"
    ;;
  *) die "usage: gpu-check.sh prepare BUNDLE FIXTURE_DIR... | run BUNDLE OUT" ;;
esac
