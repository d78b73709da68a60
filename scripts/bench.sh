#!/usr/bin/env bash
# Times webperm beside find on the same generated tree (DIRS directories of FILES files each),
# warm cache, best of three. find -printf reads what webperm reads (type, mode, owner, link) but
# judges nothing, so it is the floor webperm is measured against.
set -euo pipefail
dirs=${DIRS:-400} files=${FILES:-250}
bin=${1:-bin/webperm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
mkdir "$tmp/site"
(
  cd "$tmp/site"
  for d in $(seq -w 1 "$dirs"); do
    mkdir -p "d$d/sub"
    (cd "d$d" && seq -f 'f%04g.php' 1 "$files" | xargs touch && chmod 0664 f0001.php)
  done
)
entries=$(find "$tmp/site" | wc -l)
best() {
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    local ms=$(((end - start) / 1000000))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}
find_ms=$(best find "$tmp/site" -printf '%y %m %U %G %l %p\n')
one_ms=$(best "$bin" audit --jobs 1 --format json "$tmp/site")
all_ms=$(best "$bin" audit --format json "$tmp/site")
echo "tree: $entries entries ($dirs directories of $files files), warm cache, best of 3"
echo "find -printf:              ${find_ms} ms"
echo "webperm audit --jobs 1:    ${one_ms} ms"
echo "webperm audit --jobs $(nproc):    ${all_ms} ms"
