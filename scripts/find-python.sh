#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain on stderr and exit 1.
# Order: $PYTHON, python3.13/python3.12/python3 on PATH, pyenv's versions, /usr/bin, /usr/local/bin.
ok() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for cand in ${PYTHON:-} python3.13 python3.12 python3 \
    "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3 \
    /usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12; do
  [ -n "$cand" ] || continue
  path=$(command -v "$cand" 2>/dev/null) || continue
  if ok "$path"; then echo "$path"; exit 0; fi
done
echo "electrolyx needs Python >= 3.12 (dolfinx-solver-real has no wheels for older versions)," >&2
echo "and none was found on PATH, under pyenv ($root/versions) or in /usr/bin." >&2
echo "Install one (e.g. 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12" >&2
exit 1
