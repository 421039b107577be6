#!/usr/bin/env bash
# Builds the HTML API reference into build-docs/html (make docs) with Debian's doxygen. Fails,
# listing them, when a public name has no documentation comment: the reference is complete or
# it is not built.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh doxygen
export DOCS_OUT=${DOCS_OUT:-build-docs}
rm -rf "$DOCS_OUT"
mkdir -p "$DOCS_OUT"
if ! doxygen docs/Doxyfile; then
  sed -n 1,40p "$DOCS_OUT/warnings.txt" >&2
  echo "docs: $(grep -c -E "warning|error" "$DOCS_OUT/warnings.txt") undocumented or malformed names" \
    "(all in $DOCS_OUT/warnings.txt)" >&2
  exit 1
fi
echo "docs: $DOCS_OUT/html/index.html"
