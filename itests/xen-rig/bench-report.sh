#!/usr/bin/env bash
# Medians and Backplane/kernel ratios from dom0.sh's bench.txt ("BACKEND RUN KEY VALUE" lines,
# BACKEND bp, bpb (Backplane with --java-opts-b) or kernel; VALUE "fail" when the step did not
# complete).
set -euo pipefail
f="${1:?usage: bench-report.sh bench.txt}"
median() { sort -g | awk '{v[NR] = $1} END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v b="$1" -v k="$2" 'BEGIN { if (b == "-" || k == "-" || k + 0 == 0) print "-"; else printf "%.2f", b / k }'; }
fails() { awk -v s="$1" -v k="$2" '$1 == s && $3 == k && $4 == "fail"' "$f" | wc -l; }
count() { awk -v s="$1" -v k="$2" '$1 == s && $3 == k' "$f" | wc -l; }
B=0; grep -q '^bpb ' "$f" && B=1
if [[ $B == 1 ]]; then
  printf '%-28s %12s %12s %12s %10s %10s\n' figure "bp (median)" "bpb (median)" "kernel" "bp/kernel" "bpb/kernel"
else
  printf '%-28s %18s %18s %10s\n' figure "Backplane (median)" "kernel (median)" "ratio B/K"
fi
for key in $(awk '{print $3}' "$f" | grep -v -E 'bytes-short' | awk '!seen[$0]++'); do
  med() { awk -v s="$1" -v k="$key" '$1 == s && $3 == k && $4 != "fail" {print $4}' "$f" | median; }
  b=$(med bp) k=$(med kernel) bb=$(med bpb)
  note=""
  for s in bp bpb kernel; do [[ $(fails $s "$key") -gt 0 ]] && note="$note $s $(fails $s "$key")/$(count $s "$key")"; done
  [[ -n $note ]] && note="  (failed:$note)"
  if [[ $B == 1 ]]; then
    printf '%-28s %12s %12s %12s %10s %10s%s\n' "$key" "$b" "$bb" "$k" "$(ratio "$b" "$k")" "$(ratio "$bb" "$k")" "$note"
  else
    printf '%-28s %18s %18s %10s%s\n' "$key" "$b" "$k" "$(ratio "$b" "$k")" "$note"
  fi
done
echo "(MiBps: higher is better, a ratio below 1 means Backplane is slower; ms: lower is better, a ratio above 1 means Backplane is slower)"
grep -h 'bytes-short' "$f" | sed 's/^/short transfer: /' || true
