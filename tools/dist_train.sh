#!/usr/bin/env bash
# Distributed training, as MMDetection's tools/dist_train.sh: GPUS processes, one per GPU,
# or, on a machine without CUDA, CPU processes with the gloo backend:
#   tools/dist_train.sh CONFIG GPUS [train.py args...]
# NNODES, NODE_RANK, PORT and MASTER_ADDR select a multi-node setup.
set -euo pipefail
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
