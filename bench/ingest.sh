#!/usr/bin/env bash
# Ingest benchmark: parse+chunk pages/s against bare Tika on the same PDFs in the same run, and the latency from
# upload to the last chunk published, against the real broker and database. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_benchmark ingest-service IngestPipelineBenchmark "$@"
