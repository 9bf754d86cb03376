#!/bin/sh
# Run Lava's own unit tests for LIF, Dense and the learning engine against the Lava installed in
# spikeport's venv (lava-nc 0.10.0 with its Python >= 3.11 fix), to show that `import lava`
# works for any code there, not only through spikeport.
#   scripts/lava_unit_tests.sh LAVA_SOURCE [PYTHON]
# LAVA_SOURCE: a checkout of Lava's repository at tag v0.10.0 (the wheel ships no tests), e.g.
#   git clone --branch v0.10.0 --depth 1 <lava repository> /tmp/lava
# PYTHON: default .venv/bin/python. Writes benchmarks/results/lava_unit_tests.json.
set -eu
src=${1:?usage: scripts/lava_unit_tests.sh LAVA_SOURCE [PYTHON]}
py=$(realpath -s "${2:-.venv/bin/python}")
out=$(pwd)/benchmarks/results/lava_unit_tests.json
log=$(mktemp)
cd "$src"
set +e
"$py" -m pytest -q -p no:cacheprovider tests/lava/proc/lif tests/lava/proc/dense \
    tests/lava/magma/core/learning 2>&1 | tee "$log" | tail -n 3
rc=$?
set -e
summary=$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -n 1)
"$py" - "$out" "$summary" <<'PY'
import json, platform, sys
from importlib import metadata
out, summary = sys.argv[1], sys.argv[2]
json.dump({"what": "Lava's own tests: tests/lava/proc/lif, tests/lava/proc/dense, "
                   "tests/lava/magma/core/learning (lava-nc v0.10.0 source)",
           "summary": summary.strip(" ="),
           "python": platform.python_version(), "numpy": metadata.version("numpy"),
           "lava_nc": metadata.version("lava-nc"), "machine": platform.platform(),
           "processor": platform.processor()}, open(out, "w"), indent=2)
print("written", out)
PY
rm -f "$log"
exit $rc
