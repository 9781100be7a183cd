#!/usr/bin/env bash
# Embedding and search benchmark: the service's embedding path against bare ONNX Runtime on the same model and
# inputs, and dense search latency and recall@10 at 100,000 chunks in the embedded store. Prints figures only.
# Options: -Dbench.part=embedding|search|all
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_benchmark embed-service EmbedSearchBenchmark "$@"
