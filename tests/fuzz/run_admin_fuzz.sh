#!/usr/bin/env bash
# Builds the admin request and job JSON fuzz targets with clang (libFuzzer + ASan + UBSan) from
# the runtime, config and service sources, and runs each for a bounded number of inputs from its
# seed corpus plus the checked-in regression inputs. Exits non-zero on any crash, abort or
# sanitizer report.
set -euo pipefail
src=$1     # project source dir
build=$2   # project build dir (for the generated version header)
runs=${3:-20000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# -fno-sanitize=function: clang 14 cannot assemble its prologue data in split coroutine
# functions ("Cannot represent a difference across sections"); every other UBSan check stays.
flags=(-std=c++20 -O1 -g1 -fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined -DNDEBUG
       '-D__builtin_assume(...)=((void)0)' -DSPDLOG_FMT_EXTERNAL
       -I"$src/service" -I"$src/config/include" -I"$src/runtime/include" -I"$src/runtime/src"
       -I"$build/runtime/include" -I"$src/tests/fuzz")
mapfile -t sources < <(cd "$src" && ls runtime/src/*.cpp config/src/*.cpp service/*.cpp service/admin/*.cpp \
  service/admin/routes/*.cpp service/jobs/*.cpp | grep -v '^service/main.cpp$')
mkdir -p "$out/obj"
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'clang++ "$@" -fsanitize=fuzzer-no-link -c "'"$src"'/{}" -o "'"$out"'/obj/$(echo {} | tr / _).o"' _ "${flags[@]}"
libs=(-lboost_thread -lboost_json -lboost_url -lboost_program_options -lspdlog -lfmt -lprometheus-cpp-core -ltomlplusplus -lpthread)
for target in admin_fuzz job_json_fuzz; do
  clang++ "${flags[@]}" -fsanitize=fuzzer "$src/tests/fuzz/$target.cpp" "$out"/obj/*.o "${libs[@]}" -o "$out/$target"
done
run() {  # run TARGET CORPUS: the seeds plus regression inputs, then bounded mutation
  mkdir -p "$out/$2"
  cp "$src/tests/fuzz/$2"/* "$out/$2/"
  "$out/$1" -runs="$runs" -max_len=16384 -seed=1 -timeout=20 "$out/$2" 2>&1 | tail -n 5
}
run admin_fuzz admin_corpus
run job_json_fuzz job_corpus
echo "admin fuzz: $runs runs of each target without a finding"
