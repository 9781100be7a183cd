#!/usr/bin/env bash
# Large documents end to end on the real local platform (the packaged launcher, as ./osfria up runs it: Kafka,
# PostgreSQL, the five services): time from upload to "indexed" of a 3.5 MB plain-text file, a 300-page PDF and a
# document of over 20,000 chunks, against a 100-chunk document uploaded before and after them in the same run;
# peak heap (sampled from the services' metrics) and peak resident memory of ingest-service and embed-service.
# Options: -Dbench.documents=text,pdf,ledger (which of the three; the 20,000-chunk ledger takes most of the run)
#          -Dbench.ledger-bytes=15000000 (its size) -Dbench.minutes-per-document=45
set -euo pipefail
cd "$(dirname "$0")/.."
# the launcher and the services' packaged apps, as ./osfria up builds them
./mvnw -B -q -DskipTests package -pl platform-local -am "$@"
. bench/lib.sh
run_benchmark platform-local LargeDocumentsBenchmark "$@"
