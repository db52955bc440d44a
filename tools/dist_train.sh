#!/usr/bin/env bash
# Distributed training (needs GPUs), as MMDetection's tools/dist_train.sh:
#   tools/dist_train.sh CONFIG GPUS [train.py args...]
# NNODES, NODE_RANK, PORT and MASTER_ADDR select a multi-node setup.
set -euo pipefail
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
