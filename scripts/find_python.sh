#!/bin/sh
# Print the path of a working Python >= 3.11 for spikeport's venv, or exit 1 with one line.
#   find_python.sh            system python3 if >= 3.11, else the newest working python3.13,
#                             python3.12, python3.11 on PATH or under pyenv
#   find_python.sh CMD        CMD (a name or a path), or, when CMD is a pyenv shim that fails,
#                             the same version under $(pyenv root)/versions
# Each candidate is *run* before it is trusted: pyenv installs shims that exist and fail.
ok() {  # ok CMD -> prints the interpreter's real path if CMD runs and is >= 3.11
    "$1" -c 'import sys, venv; assert sys.version_info >= (3, 11); print(sys.executable)' 2>/dev/null
}
pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
under_pyenv() {  # under_pyenv 3.13 -> newest $(pyenv root)/versions/3.13.*/bin/python3.13
    ls -d "$pyenv_root"/versions/"$1".*/bin/python"$1" 2>/dev/null | sort -V | tail -n 1
}
if [ -n "$1" ]; then
    ok "$1" && exit 0
    v=$(echo "$1" | sed -n 's/.*python\(3\.[0-9][0-9]*\)$/\1/p')
    if [ -n "$v" ] && c=$(under_pyenv "$v") && [ -n "$c" ] && ok "$c"; then exit 0; fi
    echo "error: PYTHON=$1 does not run as Python >= 3.11 (spikeport supports 3.11-3.13)" >&2
    exit 1
fi
ok python3 && exit 0
for v in 3.13 3.12 3.11; do
    ok "python$v" && exit 0
    c=$(under_pyenv "$v") && [ -n "$c" ] && ok "$c" && exit 0
done
echo "error: no working Python >= 3.11 found (tried python3, python3.13, python3.12, python3.11 and pyenv's versions); install one (e.g. apt-get install python3 python3-venv) or pass PYTHON=/path/to/python3.x" >&2
exit 1
