#!/usr/bin/env bash
# Embedding and search benchmark: the service's embedding path against bare ONNX Runtime on the same model and
# inputs, and dense search latency and recall@10 at 100,000 chunks in the embedded store. Prints figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -DskipTests install -pl embed-service -am
./mvnw -B -pl embed-service test -Dtest=EmbedSearchBenchmark -Dsurefire.failIfNoSpecifiedTests=false "$@" | grep '^BENCH'
