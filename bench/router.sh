#!/usr/bin/env bash
# Inference router benchmark: latency the router adds at a fixed rate (vs calling a simulated vLLM directly, and vs
# nginx as a baseline proxy), concurrent SSE streams held with a 512 MiB heap, and heap growth over a long run.
# nginx comes from Debian's package, unpacked under target/ (no install, no root needed to run it).
# The Kafka broker runs in a process of its own too (in the load generator's JVM its pauses counted as router latency).
# Options: -Dbench.rate=1000 -Dbench.seconds=60 (per target, measured in -Dbench.rounds=12 interleaved slices;
#          -Dbench.interleave=requests: the three together, requests interleaved one by one, each at the rate)
#          -Dbench.warm-up-seconds=30 -Dbench.streams=2000 (0: skip)
#          -Dbench.long-run-seconds=60
#          "-Dbench.jvm-opts=-XX:+UseG1GC -XX:StartFlightRecording=filename=/tmp/router.jfr" (the router's JVM options)
#          -Dbench.router-cpus=1 (pin the router with taskset)
set -euo pipefail
cd "$(dirname "$0")/.."
nginx_dir=inference-router/target/nginx
if [ ! -x "$nginx_dir/usr/sbin/nginx" ]; then
  mkdir -p "$nginx_dir"
  (cd "$nginx_dir" && apt-get download nginx >/dev/null && dpkg -x nginx_*.deb .) \
    || echo "nginx could not be fetched from Debian's packages: the baseline is skipped" >&2
fi
nginx_opt=()
if [ -x "$nginx_dir/usr/sbin/nginx" ]; then
  nginx_opt=("-Dbench.nginx=$PWD/$nginx_dir/usr/sbin/nginx")
fi
. bench/lib.sh
run_benchmark inference-router RouterBenchmark "${nginx_opt[@]}" "$@"
