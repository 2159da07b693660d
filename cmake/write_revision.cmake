# Writes OUT, a header with the source tree's git revision, its commit date and whether the work
# tree had uncommitted changes; run at every build (cmake -P), it rewrites OUT only when that
# changed, so nothing recompiles for an unchanged revision. REVISION, when set, is used instead
# of git (a container build has no .git: the Dockerfile passes its REVISION build argument).
set(revision "unknown")
set(commit_date "unknown")
set(dirty "false")
if(REVISION)
  set(revision "${REVISION}")
else()
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SRC}" rev-parse HEAD
      OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE head_rc ERROR_QUIET)
    if(head_rc EQUAL 0)
      set(revision "${head}")
      execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SRC}" log -1 --format=%cI
        OUTPUT_VARIABLE commit_date OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SRC}" status --porcelain --untracked-files=no
        OUTPUT_VARIABLE changes ERROR_QUIET)
      if(NOT changes STREQUAL "")
        set(dirty "true")
      endif()
    endif()
  endif()
endif()
string(REGEX REPLACE "[^0-9A-Za-z._:+-]" "_" revision "${revision}")
string(REGEX REPLACE "[^0-9A-Za-z._:+-]" "_" commit_date "${commit_date}")
file(WRITE "${OUT}.new" "// Generated at build time by cmake/write_revision.cmake; not installed.
#pragma once

#define LOOPVISOR_REVISION \"${revision}\"
#define LOOPVISOR_COMMIT_DATE \"${commit_date}\"
#define LOOPVISOR_DIRTY ${dirty}
")
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.new")
