#!/usr/bin/env bash
# Installs what the tests need: the anchor decoders and encoders from Debian
# (when run as root) and pinned Python packages from PyPI. Failures are
# reported, not fatal: tests that need a missing tool skip with a message.
set -u
need_apt=()
command -v opj_decompress >/dev/null || need_apt+=(libopenjp2-tools)
command -v ojph_compress >/dev/null || need_apt+=(openjph-tools)
command -v grk_decompress >/dev/null || need_apt+=(grokj2k-tools)
command -v clang >/dev/null || need_apt+=(clang)
[ -e /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "install_deps: apt-get install ${need_apt[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/tmp/htc_apt.log 2>&1 \
      || echo "install_deps: apt-get failed (see /tmp/htc_apt.log); tests that need these tools will skip"
  else
    echo "install_deps: not root; missing ${need_apt[*]}: tests that need them will skip"
  fi
fi
if command -v python3 >/dev/null; then
  if ! python3 -c "import numpy, pytest, pydicom" 2>/dev/null; then
    python3 -m pip install -q "numpy==1.26.4" "pytest==8.3.3" "pydicom==3.0.1" >/tmp/htc_pip.log 2>&1 \
      || echo "install_deps: pip install failed (see /tmp/htc_pip.log); Python tests will skip"
  fi
fi
exit 0
