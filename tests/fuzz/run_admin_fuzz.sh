#!/usr/bin/env bash
# Builds the admin request and job JSON fuzz targets with clang (libFuzzer + ASan + UBSan) from
# the runtime, config and service sources, and runs each for a bounded number of inputs from its
# seed corpus plus the checked-in regression inputs. Exits non-zero on any crash, abort or
# sanitizer report. Objects are kept in BUILD/fuzz-obj and rebuilt when a source or a header they
# include changed (clang's -MMD lists them).
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
# Not runtime/src/tls.cpp: it is the loopvisor::tls target (OpenSSL), which the daemon does not link.
mapfile -t sources < <(cd "$src" && ls runtime/src/*.cpp config/src/*.cpp service/*.cpp service/admin/*.cpp \
  service/admin/routes/*.cpp service/jobs/*.cpp | grep -v -e '^service/main.cpp$' -e '^runtime/src/tls.cpp$')
# The sources are compiled as one unity file per core. Compiled one by one, each file re-parsed the
# Asio, spdlog and Boost.JSON headers and re-instantiated the same templates, which made this the
# slowest test of the suite (70 files, about 7 s each). A chunk file is rewritten only when its list
# changes, so an unchanged chunk keeps its object.
obj=$build/fuzz-obj
mkdir -p "$obj"
stale() {  # stale OBJECT: missing, or older than a file its dependency list names
  [[ -f $1 && -f ${1%.o}.d ]] || return 0
  local dep
  for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "${1%.o}.d"); do
    [[ $dep -nt $1 ]] && return 0
  done
  return 1
}
chunks=$(nproc)
todo=()
objects=()
for ((c = 0; c < chunks; c++)); do
  unit=$obj/unity-$c.cpp
  for ((i = c; i < ${#sources[@]}; i += chunks)); do echo "#include \"$src/${sources[i]}\""; done > "$unit.new"
  if cmp -s "$unit.new" "$unit"; then rm "$unit.new"; else mv "$unit.new" "$unit"; fi
  objects+=("${unit%.cpp}.o")
  if stale "${unit%.cpp}.o"; then todo+=("$unit"); fi
done
echo "admin fuzz: compiling ${#todo[@]} of $chunks unity files (${#sources[@]} sources) with clang"
if ((${#todo[@]} > 0)); then
  printf '%s\n' "${todo[@]}" | xargs -P "$chunks" -I{} sh -c \
    'u={}; clang++ "$@" -fsanitize=fuzzer-no-link -MMD -MF "${u%.cpp}.d" -c "$u" -o "${u%.cpp}.o"' _ "${flags[@]}"
fi
libs=(-lboost_thread -lboost_json -lboost_url -lboost_program_options -lspdlog -lfmt -lprometheus-cpp-core -ltomlplusplus -lpthread)
pids=()
for target in admin_fuzz job_json_fuzz; do
  clang++ "${flags[@]}" -fsanitize=fuzzer "$src/tests/fuzz/$target.cpp" "${objects[@]}" "${libs[@]}" -o "$out/$target" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
run() {  # run TARGET CORPUS: the seeds plus regression inputs, then bounded mutation
  mkdir -p "$out/$2"
  cp "$src/tests/fuzz/$2"/* "$out/$2/"
  "$out/$1" -runs="$runs" -max_len=16384 -seed=1 -timeout=20 -artifact_prefix="$out/" "$out/$2" 2>&1 | tail -n 40
}
run admin_fuzz admin_corpus
run job_json_fuzz job_corpus
echo "admin fuzz: $runs runs of each target without a finding"
