#!/usr/bin/env bash
# Upload to searchable on the real local platform (the packaged launcher, as ./osfria up runs it): p50/p95 from the
# upload of a 10-page text PDF to its status "indexed" (the client waiting with ?wait=20; a second, shorter pass
# polling every 10 ms), one document at a time, with the per-stage breakdown read
# from the services' /q/metrics and the work inside the services (parse+chunk, embedding) as the baseline; then
# POST /v1/search against its own search_time_ms and GET /v1/documents?limit=5, then searches alone through the entry
# port on one kept-alive socket (what a client of a warm platform that only searches waits).
# Options: -Dbench.documents=30 -Dbench.polled-documents=10 -Dbench.warmup=5 -Dbench.requests=200
#          -Dbench.request-warmup=2000 -Dbench.search-warmup=10000 (searches before the searches alone are measured)
set -euo pipefail
cd "$(dirname "$0")/.."
# the launcher and the services' packaged apps, as ./osfria up builds them
./mvnw -B -q -DskipTests package -pl platform-local -am "$@"
. bench/lib.sh
run_benchmark platform-local EndToEndBenchmark "$@"
