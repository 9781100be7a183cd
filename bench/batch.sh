#!/usr/bin/env bash
# Batch inference on spare capacity: interactive latency through the router alone and while a batch of 1,000 chat
# requests from a Kafka application keeps the batch lane full (interleaved slices), with each batch's time to its
# last answer, answers lost and repeated. Two simulated vLLM servers with a bounded batch size (their queue is
# reported in /metrics, as vLLM's is); the router and the Kafka broker run in the benchmark's JVM.
# Options: -Dbench.rounds=3 -Dbench.seconds=8 (per slice) -Dbench.batch=1000 -Dbench.clients=4
#          -Dbench.capacity=16 (per backend) -Dbench.lane=8 (the batch lane per backend: half the capacity; set it
#          above the capacity, e.g. 32, to see what the lane prevents) -Dbench.delay-ms=200 (per answer)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_benchmark inference-router BatchLaneBenchmark "$@"
