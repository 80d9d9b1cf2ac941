#!/usr/bin/env bash
# `make run`: the main job, on a sample the project makes itself.
# Today: generate a CT-like phantom, encode it as HTJ2K with ojph_compress
# (Debian openjph-tools) and describe it with `htc info`.
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
bash tests/install_deps.sh >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 tests/scripts/make_phantom.py "$WORK/phantom.pgm" 512 512
if command -v ojph_compress >/dev/null; then
  ojph_compress -i "$WORK/phantom.pgm" -o "$WORK/phantom.j2c" -reversible true -num_decomps 5 -prog_order RPCL >/dev/null
  "$BUILD/htc" info "$WORK/phantom.j2c"
else
  echo "main job: ojph_compress is missing (apt-get install openjph-tools)"
  exit 1
fi
