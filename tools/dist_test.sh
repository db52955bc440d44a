#!/usr/bin/env bash
# Distributed testing (needs GPUs), as MMDetection's tools/dist_test.sh:
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
set -euo pipefail
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
