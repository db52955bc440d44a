#!/usr/bin/env bash
# Distributed testing, as MMDetection's tools/dist_test.sh (GPUs, or CPU processes with gloo):
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
set -euo pipefail
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
