#!/usr/bin/env bash
# Times webperm beside find on generated web-root-like trees (internal/cmd/gentree) and prints
# a table: median wall time of RUNS runs, webperm's ratio to find, and webperm's peak RSS.
#
#   scripts/bench.sh [WEBPERM [GENTREE]]      (make bench builds both)
#
# find ROOT -printf '%m %U %G %p\n' reads what webperm reads (mode, owner, path) and judges
# nothing: it is the floor webperm is measured against. The commands of one tree run alternately
# (find, json, text, json --jobs 1, then again), on a warm cache, so a noisy neighbour slows all
# of them alike and the ratios stay fair. Each run is timed by GNU time (/usr/bin/time -v), its
# output written to a file in the bench directory, as a cron job keeps a report.
#
# Environment:
#   SIZES     tree sizes for VARIANTS (default "100k 1M"; entries below the root, k or M)
#   VARIANTS  gentree variants (default "deploy www-data")
#   OPEN      sizes of the open variant, a finding per entry (default "300k"; empty for none)
#   RUNS      runs of each command (default 5)
#   JOBS1     1 to time webperm --jobs 1 too (default 1)
#   NOXATTRS  1 to time webperm --no-xattrs too (default 0)
#   SEED      gentree's seed (default 1)
#   TMPDIR    where the trees are made (one at a time; each is removed before the next)
set -euo pipefail
bin=${1:-bin/webperm}
gen=${2:-bin/gentree}
sizes=${SIZES-100k 1M}
variants=${VARIANTS-deploy www-data}
open_sizes=${OPEN-300k}
runs=${RUNS:-5}
jobs1=${JOBS1:-1}
noxattrs=${NOXATTRS:-0}
seed=${SEED:-1}

if [ ! -x /usr/bin/time ]; then
	echo "bench: /usr/bin/time (GNU time) is missing: apt-get install time" >&2
	exit 2
fi
for b in "$bin" "$gen"; do
	[ -x "$b" ] || { echo "bench: $b is not built: run make bench" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webperm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

# seconds turns GNU time's "h:mm:ss" or "m:ss.ss" into seconds.
seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f\n", s }' <<<"$1"; }

# timed LABEL OUT CMD... runs CMD once with its output in OUT and appends "seconds maxrss_kb"
# to $tmp/LABEL.times. webperm's exit status 1 (findings) is not a failure; above that it is.
timed() {
	local label=$1 out=$2 status=0
	shift 2
	/usr/bin/time -v -o "$tmp/time.txt" "$@" >"$out" 2>"$tmp/stderr.txt" || status=$?
	if [ "$status" -gt 1 ]; then
		echo "bench: $* exited $status:" >&2
		cat "$tmp/stderr.txt" "$tmp/time.txt" >&2
		exit 1
	fi
	local wall rss
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
	echo "$(seconds "$wall") $rss" >>"$tmp/$label.times"
}

# median FILE prints the median of the first column; range and peak the spread and the largest
# second column (kB) in MiB.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
peak() { awk '$2 > m { m = $2 } END { printf "%d", m / 1024 }' "$1"; }

rows=() notes=()
bench_tree() {
	local size=$1 variant=$2 tree="$tmp/tree"
	echo "bench: generating $size $variant (seed $seed)" >&2
	local made entries disk
	made=$("$gen" -seed "$seed" -n "$size" -variant "$variant" "$tree" 2>&1) || { echo "$made" >&2; exit 1; }
	entries=$(find "$tree" | wc -l)
	disk=$(du -sm "$tree" | cut -f1)
	notes+=("$size $variant: ${made#gentree: "$tree": }; $disk MiB on $(df --output=fstype "$tmp" | tail -1)")
	echo "bench: ${notes[-1]}" >&2

	local labels=(find json text)
	[ "$jobs1" = 1 ] && labels+=(json-jobs1)
	[ "$noxattrs" = 1 ] && labels+=(json-noxattrs)
	rm -f "$tmp"/*.times
	find "$tree" -printf '%m %U %G %p\n' >/dev/null # warm the cache
	for ((r = 1; r <= runs; r++)); do
		echo "bench: $size $variant: run $r of $runs" >&2
		timed find "$tmp/find.out" find "$tree" -printf '%m %U %G %p\n'
		timed json "$tmp/report.json" "$bin" audit --format json "$tree"
		timed text "$tmp/report.txt" "$bin" audit --format text "$tree"
		[ "$jobs1" = 1 ] && timed json-jobs1 "$tmp/report1.json" "$bin" audit --jobs 1 --format json "$tree"
		[ "$noxattrs" = 1 ] && timed json-noxattrs "$tmp/report2.json" "$bin" audit --no-xattrs --format json "$tree"
	done
	local findings
	findings=$(grep -m1 -o '"findings": [0-9]*' "$tmp/report.json" | grep -o '[0-9]*$')
	local base
	base=$(median "$tmp/find.times")
	local label cmd med
	for label in "${labels[@]}"; do
		case $label in
		find) cmd="find -printf '%m %U %G %p\\n'" ;;
		json) cmd="webperm audit --format json" ;;
		text) cmd="webperm audit --format text" ;;
		json-jobs1) cmd="webperm audit --jobs 1 --format json" ;;
		json-noxattrs) cmd="webperm audit --no-xattrs --format json" ;;
		esac
		med=$(median "$tmp/$label.times")
		rows+=("$(printf '%-5s %-9s %9s %9s  %-38s %8s %12s %7s %8s' "$size" "$variant" "$entries" "$findings" "$cmd" "$med" "$(range "$tmp/$label.times")" \
			"$(awk -v a="$med" -v b="$base" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')" "$(peak "$tmp/$label.times")")")
	done
	echo "bench: removing the tree" >&2
	rm -rf "$tree" "$tmp"/*.out "$tmp"/report*
}

for size in $sizes; do
	for variant in $variants; do bench_tree "$size" "$variant"; done
done
for size in $open_sizes; do bench_tree "$size" open; done

echo
echo "$("$bin" version 2>/dev/null | head -1) on $(nproc) cores, Linux $(uname -r), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "gentree seed $seed, warm cache, median of $runs runs each, the commands of a tree alternated; x find = webperm's median / find's"
printf '%-5s %-9s %9s %9s  %-38s %8s %12s %7s %8s\n' size variant entries findings command "median s" "range s" "x find" "RSS MiB"
printf '%s\n' "${rows[@]}"
echo
echo "trees (the disk is the directories' blocks: an empty file takes an inode and no block):"
printf '  %s\n' "${notes[@]}"
