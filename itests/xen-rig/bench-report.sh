#!/usr/bin/env bash
# Medians and Backplane/kernel ratios from dom0.sh's bench.txt ("BACKEND RUN KEY VALUE" lines,
# BACKEND bp or kernel; VALUE "fail" when the step did not complete).
set -euo pipefail
f="${1:?usage: bench-report.sh bench.txt}"
median() { sort -g | awk '{v[NR] = $1} END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-28s %18s %18s %10s\n' figure "Backplane (median)" "kernel (median)" "ratio B/K"
for key in $(awk '{print $3}' "$f" | grep -v -E 'bytes-short' | awk '!seen[$0]++'); do
  b=$(awk -v k="$key" '$1 == "bp" && $3 == k && $4 != "fail" {print $4}' "$f" | median)
  k=$(awk -v k="$key" '$1 == "kernel" && $3 == k && $4 != "fail" {print $4}' "$f" | median)
  nb=$(awk -v k="$key" '$1 == "bp" && $3 == k' "$f" | wc -l); fb=$(awk -v k="$key" '$1 == "bp" && $3 == k && $4 == "fail"' "$f" | wc -l)
  nk=$(awk -v k="$key" '$1 == "kernel" && $3 == k' "$f" | wc -l); fk=$(awk -v k="$key" '$1 == "kernel" && $3 == k && $4 == "fail"' "$f" | wc -l)
  ratio=$(awk -v b="$b" -v k="$k" 'BEGIN { if (b == "-" || k == "-" || k + 0 == 0) print "-"; else printf "%.2f", b / k }')
  note=""; [[ $fb -gt 0 || $fk -gt 0 ]] && note="  (failed: Backplane $fb/$nb, kernel $fk/$nk)"
  printf '%-28s %18s %18s %10s%s\n' "$key" "$b" "$k" "$ratio" "$note"
done
echo "(MiBps: higher is better, a ratio below 1 means Backplane is slower; ms: lower is better, a ratio above 1 means Backplane is slower)"
grep -h 'bytes-short' "$f" | sed 's/^/short transfer: /' || true
