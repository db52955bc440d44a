#!/usr/bin/env bash
# Shared body of dist_train.sh / dist_test.sh (as MMDetection's): run a tool under
# torch.distributed.run with --launcher pytorch.
#   tools/dist_launch.sh TOOL.py GPUS [tool args...]
# NNODES, NODE_RANK, PORT and MASTER_ADDR select a multi-node setup.
set -euo pipefail
TOOL=$1
GPUS=$2
DIR=$(cd "$(dirname "$0")" && pwd)
PYTHONPATH="$DIR/..:${PYTHONPATH:-}" \
python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$GPUS" \
    "$DIR/$TOOL" "${@:3}" --launcher pytorch
