# Shared by the bench scripts: runs one *Benchmark class of a module from a fresh clone (-am builds what the module
# needs from this checkout: no mvn install), prints its BENCH lines as they come and keeps the whole log.
#   run_benchmark MODULE CLASS [maven args...]
run_benchmark() {
  local module=$1 class=$2
  shift 2
  local log="$module/target/bench-$class.log"
  mkdir -p "$module/target"
  echo "running $class (full log: $log)" >&2
  # -Dtest.jit= : the full JIT (C2), as services run in production; the suite's tests stop at C1 to build faster
  if ! ./mvnw -B -pl "$module" -am test -Dtest="$class" -Dsurefire.failIfNoSpecifiedTests=false -Dtest.jit= "$@" 2>&1 \
      | tee "$log" | grep --line-buffered '^BENCH'; then
    echo "$class failed or printed nothing: see $log" >&2
    return 1
  fi
  if grep -q 'BUILD FAILURE' "$log"; then
    echo "$class failed: see $log" >&2
    return 1
  fi
}
