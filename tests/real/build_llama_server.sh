#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the source that the llama-cpp-python sdist
# vendors, and caches the binary under the venv so a second `make test` does not
# rebuild. PyPI is the only network this needs (the machine has no other):
# every llama.cpp option that would download (web UI from Hugging Face, OpenSSL
# for HTTPS model fetches, KleidiAI, OpenMP installers) is turned off.
#
#   tests/real/build_llama_server.sh [VENV]    (default .venv)
# prints the binary's path on its last line.
set -euo pipefail

VENV=${1:-.venv}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
JOBS=${LLAMA_BUILD_JOBS:-2}
DEST="$VENV/llama-server"
BIN="$DEST/bin/llama-server"
STAMP="$DEST/stamp"
CMAKE_FLAGS=(
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=OFF
    -DGGML_NATIVE=OFF
    -DLLAMA_BUILD_SERVER=ON
    -DLLAMA_BUILD_TESTS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_UI=OFF
    -DLLAMA_USE_PREBUILT_UI=OFF
    -DLLAMA_OPENSSL=OFF
)
# The stamp names everything the binary depends on: change one, and it rebuilds.
WANT="llama-cpp-python==$VERSION vendor/llama.cpp ${CMAKE_FLAGS[*]}"

if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
    echo "llama-server: cached ($WANT)" >&2
    echo "$BIN"
    exit 0
fi

# A fresh machine may lack the compilers: `make test` installs what a test needs.
missing=()
for tool in cmake c++ tar; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "llama-server: installing cmake g++ with apt-get (missing: ${missing[*]})" >&2
    apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q cmake g++ tar >&2
fi
for tool in cmake c++ tar; do
    command -v "$tool" >/dev/null || {
        echo "llama-server: '$tool' is not installed; install it (Debian: apt-get install cmake g++)" >&2
        exit 1
    }
done

start=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llama-server-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "llama-server: downloading the llama-cpp-python==$VERSION sdist from PyPI" >&2
"$VENV/bin/python" -m pip download -q --no-binary :all: --no-deps \
    "llama-cpp-python==$VERSION" -d "$WORK/sdist" >&2
tar -xzf "$WORK"/sdist/llama_cpp_python-*.tar.gz -C "$WORK"
SRC=$(echo "$WORK"/llama_cpp_python-*/vendor/llama.cpp)
[[ -f "$SRC/CMakeLists.txt" ]] || {
    echo "llama-server: the sdist has no vendor/llama.cpp/CMakeLists.txt" >&2
    exit 1
}

echo "llama-server: building with $JOBS jobs (several minutes on 2 cores)" >&2
cmake -S "$SRC" -B "$WORK/build" "${CMAKE_FLAGS[@]}" >"$WORK/configure.log" 2>&1 || {
    tail -40 "$WORK/configure.log" >&2
    exit 1
}
cmake --build "$WORK/build" --target llama-server -j "$JOBS" >"$WORK/build.log" 2>&1 || {
    tail -40 "$WORK/build.log" >&2
    exit 1
}

mkdir -p "$DEST/bin"
install -m 755 "$WORK/build/bin/llama-server" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "$WANT" >"$STAMP"
echo "llama-server: built in $(($(date +%s) - start)) s" >&2
echo "$BIN"
