#!/usr/bin/env bash
# First start: a fresh clone of this repository's HEAD, `make run`, until /api/health answers 200.
#
#   bench/first_start.sh                              # a new .venv in the clone (pip's own cache is reused)
#   VENV=/path/to/a/ready/venv bench/first_start.sh   # a ready environment: nothing may be installed
#
# Prints the seconds to the first line of output, to a healthy server, whether pip ran, and the
# size of the virtualenv. Everything it makes lives in a temporary folder removed at the end
# (KEEP=1 keeps it). Run it on an idle machine for a number to quote; on a busy one, say so.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/modelship-first-start-XXXXXX)
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
LIMIT=${LIMIT:-900}
RUN_PID=""

cleanup() {
  if [ -n "$RUN_PID" ]; then kill -TERM -- "-$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != "1" ]; then rm -rf "$WORK"; else echo "kept: $WORK"; fi
}
trap cleanup EXIT

git clone --quiet "$ROOT" "$WORK/repo"
cd "$WORK/repo"
now() { date +%s.%N; }
start=$(now)
env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL -u CACHE_URL PORT="$PORT" MODELSHIP_DATA_DIR="$WORK/data" \
  setsid make run ${VENV:+VENV="$VENV"} > "$WORK/run.log" 2>&1 &
RUN_PID=$!

first="" healthy=""
while :; do
  t=$(now)
  if [ -z "$first" ] && [ -s "$WORK/run.log" ]; then first=$(printf "%.1f" "$(echo "$t - $start" | bc)"); fi
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/health" 2>/dev/null; then healthy=$(printf "%.1f" "$(echo "$t - $start" | bc)"); break; fi
  if ! kill -0 "$RUN_PID" 2>/dev/null; then echo "make run exited early:"; tail -40 "$WORK/run.log"; exit 1; fi
  if (( $(echo "$t - $start > $LIMIT" | bc) )); then echo "not healthy after ${LIMIT}s:"; tail -40 "$WORK/run.log"; exit 1; fi
  sleep 0.5
done

venv=${VENV:-$WORK/repo/.venv}
installed=$(grep -q "pip install" "$WORK/run.log" && echo yes || echo no)
printf '%-34s %s\n' "first output after (s)" "$first" "healthy after (s)" "$healthy" "goal (s)" "< 180" \
  "installer ran (pip or uv)" "$installed" "virtualenv" "$venv" "virtualenv size" "$(du -sh "$venv" | cut -f1)" \
  "load average at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
