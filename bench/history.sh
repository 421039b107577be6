#!/usr/bin/env bash
# Appends one row to the benchmark history: commit, date, CPU model, then every figure of the
# BENCH lines in LOG (what `make bench` printed), one column each, named by the line's
# identifying fields and the figure, e.g. B1.threads=2.tapegrad_s. A figure new to the file adds
# a column (older rows get it empty). Commit the file when a change moves a figure.
# Usage: bench/history.sh LOG [CSV]
set -euo pipefail
log=${1:?usage: history.sh LOG [CSV]}
csv=${2:-$(dirname "$0")/history.csv}
commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$(dirname "$0")" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit+="+dirty"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr -d ',')
row=$(awk -v commit="$commit" -v date="$(date -u +%Y-%m-%dT%H:%MZ)" -v cpu="$cpu" '
  BEGIN { split("threads workload op layer shape k dtype contention", ids, " ")
          for (i in ids) id[ids[i]] = 1
          printf "commit\034%s\035date\034%s\035cpu\034%s", commit, date, cpu }
  $1 == "BENCH" {
    name = $2
    for (i = 3; i <= NF; ++i) { split($i, kv, "="); if (kv[1] in id) name = name "." $i }
    for (i = 3; i <= NF; ++i) {
      split($i, kv, "=")
      if (!(kv[1] in id) && kv[2] != "") printf "\035%s.%s\034%s", name, kv[1], kv[2]
    }
  }' "$log")
# Merge: the header is the union of the columns in first-seen order.
tmp=$(mktemp)
awk -v row="$row" -F, '
  NR == 1 { for (i = 1; i <= NF; ++i) { col[++n] = $i; at[$i] = n }; next }
  { old[++rows] = $0 }
  END {
    m = split(row, cells, "\035")
    for (i = 1; i <= m; ++i) {
      split(cells[i], kv, "\034")
      key = kv[1]
      val[key] = kv[2]
      if (!(key in at)) { col[++n] = key; at[key] = n }
    }
    for (i = 1; i <= n; ++i) printf "%s%s", col[i], (i < n ? "," : "\n")
    for (r = 1; r <= rows; ++r) {
      k = split(old[r], f, ",")
      for (i = 1; i <= n; ++i) printf "%s%s", (i <= k ? f[i] : ""), (i < n ? "," : "\n")
    }
    for (i = 1; i <= n; ++i) printf "%s%s", val[col[i]], (i < n ? "," : "\n")
  }' "$( [ -f "$csv" ] && echo "$csv" || echo /dev/null)" > "$tmp"
mv "$tmp" "$csv"
echo "history.sh: appended a row for $commit to $csv"
