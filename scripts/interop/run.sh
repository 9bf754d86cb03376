#!/usr/bin/env bash
# Interop checks against other projects' own code (what `make interop` runs):
#   1. spikeport export-netx -> lava-dl's netx loads the file and runs it on Lava (fixed_pt);
#      its spikes must equal the emulator's, layer by layer, step by step.
#   2. NeuroBench 2.3.0's metrics on the same run (through a torch wrapper that replays the
#      recorded spikes) beside spikeport's native NeuroBench-named metrics.
# Results: benchmarks/results/interop_netx.json, benchmarks/results/interop_neurobench.json.
#
# usage: scripts/interop/run.sh [WORKDIR]    (default WORKDIR: runs/interop)
# env:   PY (spikeport's Python, default .venv/bin/python), INTEROP_VENV (default
#        .venv-interop, built by setup_env.sh), SAMPLES (default 50), LEARN_SAMPLES (300)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work=${1:-runs/interop}
PY=${PY:-.venv/bin/python}
side=${INTEROP_VENV:-.venv-interop}
samples=${SAMPLES:-50}
learn=${LEARN_SAMPLES:-300}
sp() { "$PY" -m spikeport.cli "$@"; }

bash "$here/setup_env.sh" "$side"
mkdir -p "$work" benchmarks/results
run=$work/digits

# netx gives a layer one threshold (vThMant), and digits_sbp's homeostasis adapts the hidden
# layer's thresholds neuron by neuron while learning (export-netx refuses those): learn without it
grep -v "homeostasis:" examples/digits_sbp.yaml > "$work/digits_sbp_nohomeo.yaml"
echo "== convert digits_sbp (no homeostasis) with integer weights in threshold units (weight_exp 0)"
sp convert "$work/digits_sbp_nohomeo.yaml" -o "$run" --weight-exp 0 > "$work/convert.txt"
echo "== learn on chip (emulator, $learn training digits), then infer with the learned network"
sp run "$run" --learn --backend emulator --samples "$learn" --no-progress
sp run "$run" --learned --backend emulator --samples "$samples" --no-progress
echo "== export the learned network for netx"
sp export-netx "$run" --learned -o "$work/digits_learned.h5"

echo "== netx on Lava ($samples test digits, sample by sample)"
"$PY" "$here/check_netx.py" inputs "$run" "$work/inputs.npz"
"$side/bin/python" "$here/netx_lava.py" "$work/digits_learned.h5" "$work/inputs.npz" \
    -o "$work/netx_spikes.npz"
versions=$("$side/bin/python" -c "import importlib.metadata as m, sys; print('python', sys.version.split()[0], *[f'{p} {m.version(p)}' for p in ('lava-dl', 'lava-nc', 'torch', 'neurobench')])")
"$PY" "$here/check_netx.py" compare "$run" "$work/digits_learned.h5" "$work/netx_spikes.npz" \
    -o benchmarks/results/interop_netx.json --side-env "$versions"

echo "== NeuroBench $("$side/bin/python" -c 'import importlib.metadata as m; print(m.version("neurobench"))') on a torch wrapper replaying the netx run"
"$side/bin/python" "$here/neurobench_check.py" "$work/digits_learned.h5" "$work/inputs.npz" \
    "$work/netx_spikes.npz" -o "$work/neurobench_package.json"
"$PY" "$here/check_netx.py" neurobench "$run" "$work/neurobench_package.json" \
    -o benchmarks/results/interop_neurobench.json

echo "== SANA-FE's Loihi on the same inference (optional: spikeport[sanafe])"
if "$PY" -c "import sanafe" >/dev/null 2>&1; then
  sp energy "$run" --backend emulator --no-baselines --second-opinion sanafe \
      > "$work/energy_sanafe.txt"
  cp "$run/sanafe.json" benchmarks/results/interop_sanafe.json
  sed -n '/Second opinion/,/^Components/p' "$work/energy_sanafe.txt"
else
  echo "sanafe not installed in $PY's environment: skipped"
fi
