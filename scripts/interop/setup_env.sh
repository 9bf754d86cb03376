#!/usr/bin/env bash
# Build the Python 3.10 side environment for the interop checks (lava-dl's netx, NeuroBench).
# usage: scripts/interop/setup_env.sh [VENV]     (default VENV: .venv-interop)
#
# lava-dl 0.6.0 (the last release) requires Python 3.10, lava-nc 0.10.0, numpy<2 and
# torch 2.3.x; neurobench 2.3.0 needs torch too. From PyPI, torch 2.3 for Linux x86_64 brings
# its CUDA libraries (several GB), so this is kept out of the main environment: spikeport never
# imports either package; the side environment only reads the files spikeport writes.
set -euo pipefail
venv=${1:-.venv-interop}
py=${PYTHON310:-}
if [ -z "$py" ]; then
  for c in python3.10 $(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if [ -x "$(command -v "$c" 2>/dev/null)" ] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      py=$c; break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "error: no working Python 3.10 found (lava-dl 0.6.0 requires exactly 3.10); install one" \
       "(e.g. 'pyenv install 3.10.13') or pass PYTHON310=/path/to/python3.10" >&2
  exit 2
fi
stamp=$venv/.interop-installed
if [ -f "$stamp" ]; then echo "side environment $venv is ready"; exit 0; fi
echo "building $venv from $py (lava-dl 0.6.0, neurobench 2.3.0, torch 2.3: a few GB, minutes)"
start=$(date +%s)
test -x "$venv/bin/python" || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --progress-bar off --upgrade pip
"$venv/bin/python" -m pip install --quiet --progress-bar off "lava-dl==0.6.0" "neurobench==2.3.0" "h5py>=3.7"
"$venv/bin/python" -c "import lava.lib.dl.netx, neurobench, torch; print('side environment ok: torch', torch.__version__)"
echo "built in $(( $(date +%s) - start )) s; size $(du -sh "$venv" | cut -f1)"
touch "$stamp"
