#!/usr/bin/env bash
# Webhook delivery benchmark: deliveries per second to a local receiver, event-to-first-attempt latency, and a
# flapping receiver counted for lost deliveries, against the real broker and database, with a drip-feeding receiver
# (200, then a byte every 5 s) subscribed to the same events. Prints figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_benchmark webhook-service DeliveryBenchmark "$@"
