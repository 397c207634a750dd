#!/usr/bin/env bash
# The C sources are formatted by clang-format (.clang-format); `make format` fixes them.
# Prints "check_format: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
    echo "check_format: skipped (clang-format missing)"; echo "check_format: 0 passed, 0 failed"; exit 0
fi
ok=0 bad=0
for f in $(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'bench/*.h'); do
    if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then ok=$((ok + 1)); else
        bad=$((bad + 1)); echo "  FAIL $f is not formatted (make format)"
    fi
done
echo "check_format: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
