#!/usr/bin/env bash
# Install uniremoval_mm and its OpenMMLab stack into a virtual environment inside the
# repository. Idempotent: a second run with nothing changed finishes in seconds.
#
# Usage: tools/install.sh [--tests] [--venv DIR] [--wheel-dir DIR] [--force]
#   --tests          also install what the test suite needs (requirements/tests.txt)
#   --venv DIR       virtual environment to create/use (default: .venv)
#   --wheel-dir DIR  a folder that may hold a prebuilt mmcv-2.1.0 wheel (e.g. ../shared/wheels);
#                    a wheel found there is used only if its compiled ops load with our torch
#   --force          reinstall even if the environment is already up to date
# Environment:
#   PYTHON                    interpreter that creates the venv (default: python3)
#   UNIREMOVAL_CACHE          cache root (default: ${XDG_CACHE_HOME:-~/.cache}/uniremoval_mm)
#   UNIREMOVAL_MMCV_CUDA      1 / 0 forces / forbids CUDA ops in a source build (default: auto)
#   MAX_JOBS                  parallel compile jobs for the mmcv build (default: nproc)
#
# All versions come from requirements/constraints.txt. The environment is stamped as
# installed only after every step and the final import check succeeded; a failed or
# interrupted run leaves no stamp, so the next run redoes the work.
set -Eeuo pipefail
export NO_ALBUMENTATIONS_UPDATE=1  # albumentations would ask PyPI for updates at import

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
VENV=.venv
WHEEL_DIR=""
WITH_TESTS=0
FORCE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tests) WITH_TESTS=1 ;;
    --force) FORCE=1 ;;
    --venv) VENV="$2"; shift ;;
    --wheel-dir) WHEEL_DIR="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
CACHE="${UNIREMOVAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uniremoval_mm}"
MMCV_VERSION=$(sed -n 's/^mmcv==\([0-9.]*\).*/\1/p' "$CONSTRAINTS")
# sha256 of mmcv-2.1.0.tar.gz as published on PyPI (checked after download).
MMCV_SDIST_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f
LOG_DIR="$VENV/install-logs"

STEP="start"
T_START=$SECONDS
T_STEP=$SECONDS
step() {  # step "name": print a progress header with the time the previous step took
  local now=$SECONDS
  [[ "$STEP" != "start" ]] && printf '      done in %ds\n' $((now - T_STEP))
  STEP="$1"
  T_STEP=$now
  printf '\n[install %s] %s\n' "$(date +%H:%M:%S)" "$STEP"
}
fail() { echo "install.sh: FAILED during '$STEP': $*" >&2; exit 1; }
on_error() {
  local rc=$?
  echo >&2
  echo "install.sh: FAILED during '$STEP' (exit code $rc, line $1)." >&2
  echo "install.sh: the environment in $VENV is NOT marked as installed; rerun after fixing the cause." >&2
  exit "$rc"
}
trap 'on_error $LINENO' ERR

PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install --disable-pip-version-check --progress-bar off -c "$CONSTRAINTS" "$@"; }

# What the stamp covers: every file that decides the environment's content.
stamp_hash() {
  cat "$CONSTRAINTS" "$ROOT/requirements/runtime.txt" "$ROOT/requirements/tests.txt" \
      "$ROOT/tools/install.sh" "$ROOT/setup.cfg" "$ROOT/setup.py" 2>/dev/null | sha256sum | cut -d' ' -f1
}
GROUP=runtime; [[ $WITH_TESTS == 1 ]] && GROUP=tests
STAMP="$VENV/.uniremoval-installed-$GROUP"

check_imports() {
  "$PY" - <<'EOF'
import importlib, sys
# mmagic.apis: its inferencers import controlnet_aux (see the pin in constraints.txt)
mods = ['torch', 'torchvision', 'mmengine', 'mmcv', 'mmcv.ops', 'mmdet', 'mmdet.models',
        'mmagic', 'mmagic.models', 'mmagic.apis', 'uniremoval_mm']
for m in mods:
    try:
        importlib.import_module(m)
    except Exception as e:  # report which module and why, then fail
        sys.exit(f'import {m} failed: {type(e).__name__}: {e}')
import torch, torchvision, mmengine, mmcv, mmdet, mmagic, uniremoval_mm
from mmcv.ops import get_compiling_cuda_version
print(f'      python {sys.version.split()[0]}  torch {torch.__version__}  '
      f'torchvision {torchvision.__version__}  mmengine {mmengine.__version__}  '
      f'mmcv {mmcv.__version__} (ops CUDA: {get_compiling_cuda_version()})  '
      f'mmdet {mmdet.__version__}  mmagic {mmagic.__version__}  '
      f'uniremoval_mm {uniremoval_mm.__version__}')
EOF
}

# ---------------------------------------------------------------------------------------
stamped() {  # the wanted group, or a superset of it (tests includes runtime), is stamped
  local want; want=$(stamp_hash)
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && return 0
  [[ $GROUP == runtime && -f "$VENV/.uniremoval-installed-tests" \
     && "$(cat "$VENV/.uniremoval-installed-tests")" == "$want" ]]
}
if [[ $FORCE == 0 && -x "$PY" ]] && stamped; then
  step "environment $VENV is up to date ($GROUP); checking imports"
  if check_imports; then
    printf '      done in %ds\n' $((SECONDS - T_STEP))
    echo "install.sh: nothing to do (use --force to reinstall)."
    exit 0
  fi
  echo "      the stamped environment does not import cleanly: reinstalling"
fi
rm -f "$VENV"/.uniremoval-installed-*

step "virtual environment $VENV"
HOST_PY="${PYTHON:-python3}"
command -v "$HOST_PY" >/dev/null || fail "interpreter '$HOST_PY' not found (set PYTHON=...)"
if [[ ! -x "$PY" ]] || ! "$PY" -c 'import sys' 2>/dev/null; then
  rm -rf "$VENV"
  "$HOST_PY" -m venv "$VENV"
fi
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 10), "Python >= 3.10 is required (torch 2.14)"; print("      " + sys.executable + " " + sys.version.split()[0])'
mkdir -p "$LOG_DIR" "$CACHE"

step "build tools (pip, setuptools < 81, wheel, ninja)"
pip_install -q pip setuptools wheel ninja

step "torch + torchvision (large download on first install), mmengine"
pip_install torch torchvision numpy mmengine  # mmcv imports mmengine: needed to test mmcv
"$PY" -c 'import torch, torchvision; print(f"      torch {torch.__version__} (CUDA build {torch.version.cuda}, GPU available: {torch.cuda.is_available()})")'

# ---- mmcv with compiled ops -------------------------------------------------------------
TORCH_VER=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
WANT_CUDA=0
if [[ "${UNIREMOVAL_MMCV_CUDA:-auto}" == 1 ]]; then
  WANT_CUDA=1
elif [[ "${UNIREMOVAL_MMCV_CUDA:-auto}" == auto ]] && command -v nvcc >/dev/null \
     && "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() and torch.version.cuda else 1)'; then
  WANT_CUDA=1
fi
if [[ $WANT_CUDA == 1 ]]; then
  VARIANT="cu$("$PY" -c 'import torch; print(torch.version.cuda.replace(".", ""))')"
else
  VARIANT=cpu
fi
MMCV_CACHE="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VER-$VARIANT-$PY_TAG"

mmcv_ok() {  # the installed mmcv is the pinned version and its ops fit this torch/variant
  "$PY" - "$MMCV_VERSION" "$WANT_CUDA" <<'EOF' >"$LOG_DIR/mmcv-check.log" 2>&1
import sys
import mmcv
from mmcv.ops import get_compiling_cuda_version, nms
import torch
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
assert nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1].tolist() == [0]
if sys.argv[2] == '1':
    assert get_compiling_cuda_version() != 'not available', 'ops built without CUDA'
EOF
}
try_wheel() {  # try_wheel FILE: install it; keep it if its ops load, else uninstall
  echo "      trying $1"
  pip_install --no-deps --force-reinstall -q "$1" || return 1
  if mmcv_ok; then return 0; fi
  echo "      $1 does not work with torch $TORCH_VER ($VARIANT ops wanted); not used:"
  tail -n 1 "$LOG_DIR/mmcv-check.log" | sed 's/^/        /'
  "$PY" -m pip uninstall -y -q mmcv || true
  return 1
}
build_mmcv() {
  local work sdist src
  work=$(mktemp -d "${TMPDIR:-/tmp}/mmcv-build.XXXXXX")
  sdist="$CACHE/sdist/mmcv-$MMCV_VERSION.tar.gz"
  fetch_mmcv_sdist || fail "no verified mmcv $MMCV_VERSION sdist to build from"
  tar -xzf "$sdist" -C "$work"
  src="$work/mmcv-$MMCV_VERSION"
  "$PY" "$ROOT/tools/misc/patch_mmcv_setup.py" "$src/setup.py"
  local log="$LOG_DIR/mmcv-build.log"
  echo "      compiling mmcv $MMCV_VERSION ops ($VARIANT, MAX_JOBS=${MAX_JOBS:-$(nproc)}); about 10 min on 2 cores"
  echo "      full log: $log"
  if ! (export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}";
        [[ $WANT_CUDA == 1 ]] && export FORCE_CUDA=1;
        "$PY" -m pip wheel -v --no-deps --no-build-isolation -w "$work/dist" "$src" 2>&1 \
          | tee "$log" \
          | sed -u -n -E 's#^[[:space:]]*(\[[0-9]+/[0-9]+\]).* -c ([^ ]*/)?([^/ ]+\.(cpp|cu)) .*#      \1 \3#p'); then
    tail -n 30 "$log" >&2
    fail "mmcv build failed; last lines above, full log in $log"
  fi
  mkdir -p "$MMCV_CACHE"
  cp "$work"/dist/mmcv-*.whl "$MMCV_CACHE/"
  rm -rf "$work"
  echo "      cached $(ls "$MMCV_CACHE"/mmcv-*.whl)"
}
fetch_mmcv_sdist() {  # download the pinned sdist once (needs torch for its metadata step)
  local sdist="$CACHE/sdist/mmcv-$MMCV_VERSION.tar.gz"
  [[ -f "$sdist" ]] && echo "$MMCV_SDIST_SHA256  $sdist" | sha256sum -c --status && return 0
  mkdir -p "$CACHE/sdist"
  local tmp; tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmcv-sdist.XXXXXX")
  echo "      downloading the mmcv $MMCV_VERSION sdist"
  "$PY" -m pip download -q --no-deps --no-binary mmcv --no-build-isolation \
      -d "$tmp" "mmcv==$MMCV_VERSION" >"$LOG_DIR/mmcv-sdist.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/mmcv-sdist.log" >&2
         echo "      could not download the mmcv $MMCV_VERSION sdist (log: $LOG_DIR/mmcv-sdist.log)" >&2
         return 1; }
  echo "$MMCV_SDIST_SHA256  $tmp/mmcv-$MMCV_VERSION.tar.gz" | sha256sum -c --status \
    || { echo "      mmcv-$MMCV_VERSION.tar.gz does not match its known sha256 $MMCV_SDIST_SHA256" >&2
         return 1; }
  mv "$tmp/mmcv-$MMCV_VERSION.tar.gz" "$sdist"
  rm -rf "$tmp"
}

step "mmcv $MMCV_VERSION with compiled ops ($VARIANT, torch $TORCH_VER, $PY_TAG)"
if mmcv_ok; then
  echo "      already installed and working"
else
  found=0
  for whl in "$MMCV_CACHE"/mmcv-"$MMCV_VERSION"-"$PY_TAG"-*.whl; do
    [[ -f "$whl" ]] && try_wheel "$whl" && { found=1; break; }
  done
  if [[ $found == 0 && -n "$WHEEL_DIR" ]]; then
    if [[ -d "$WHEEL_DIR" ]]; then
      for whl in "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PY_TAG"-*.whl; do
        if [[ -f "$whl" ]] && try_wheel "$whl"; then
          found=1
          mkdir -p "$MMCV_CACHE" && cp "$whl" "$MMCV_CACHE/"
          break
        fi
      done
    else
      echo "      wheel dir '$WHEEL_DIR' does not exist; ignoring it"
    fi
  fi
  if [[ $found == 0 ]]; then
    echo "      no matching mmcv wheel in $MMCV_CACHE${WHEEL_DIR:+ or $WHEEL_DIR}: building from source"
    build_mmcv
    for whl in "$MMCV_CACHE"/mmcv-"$MMCV_VERSION"-*.whl; do try_wheel "$whl" && found=1 && break; done
    [[ $found == 1 ]] || fail "the freshly built mmcv wheel does not load (see $LOG_DIR/mmcv-build.log)"
  fi
fi

step "OpenMMLab stack: mmengine, mmdet, mmagic and their pinned dependencies"
pip_install -r requirements/runtime.txt

step "uniremoval_mm (editable)"
pip_install --no-build-isolation -e "$ROOT"

if [[ $WITH_TESTS == 1 ]]; then
  step "test tools (requirements/tests.txt)"
  pip_install -r requirements/tests.txt
  # The patch test reads the real mmcv setup.py; keep the sdist cached (best effort).
  fetch_mmcv_sdist || echo "      (could not cache the mmcv sdist: its patch test will skip)"
fi

step "checking the environment"
"$PY" -m pip check >"$LOG_DIR/pip-check.log" 2>&1 \
  || { cat "$LOG_DIR/pip-check.log" >&2; fail "pip check found broken requirements"; }
check_imports
stamp_hash >"$STAMP"
printf '      done in %ds\n' $((SECONDS - T_STEP))
echo
echo "install.sh: OK ($GROUP) in $((SECONDS - T_START))s. Activate with: source ${VENV#$ROOT/}/bin/activate"
