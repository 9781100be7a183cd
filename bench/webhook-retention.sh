#!/usr/bin/env bash
# What webhook-service's retention sweep costs: deliveries per second to a healthy receiver in bursts of 10,000 events,
# alone and while the sweep deletes 200,000 expired deliveries. Prints figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_benchmark webhook-service RetentionSweepBenchmark "$@"
