#!/usr/bin/env bash
# Checks (or, with --fix, applies) .clang-format on every tracked C++ file, with Debian 12's
# clang-format (14): a different version may format differently.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh clang-format
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.hpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/clang-format.$$; then
  grep -m 20 "error:" /tmp/clang-format.$$ >&2 || true
  rm -f /tmp/clang-format.$$
  echo "format: files differ from .clang-format; run scripts/check_format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/clang-format.$$
echo "format: ${#files[@]} files match .clang-format"
