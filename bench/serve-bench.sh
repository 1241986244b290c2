#!/usr/bin/env bash
# Load benchmark of `folio serve`: starts the server on a free port with one model, runs
# shared/bench/loadgen.py (concurrent streaming /v1/completions) for each load, and prints
# loadgen's figures with the server's memory (VmRSS, and VmHWM = peak) before and after each.
#
#   bench/serve-bench.sh [--model M.gguf] [--folio PATH] [--loads "R:C:W:T ..."] [-- SERVE FLAGS]
#
# Defaults: the model bench-300m-Q8_0 from ${FOLIO_BENCH_DIR:-~/.cache/folio-bench} (written by
# shared/bench/make-bench-models.sh when missing); the folio binary build/app/folio; the loads
#   32:16:100:64   --requests 32 --concurrency 16 --prompt-words 100 --max-tokens 64
#   200:64:100:64  --requests 200 --concurrency 64 (loadgen's defaults for the rest)
# Flags after -- go to `folio serve` (e.g. -- --threads 2 --max-num-seqs 64).
# A quick smoke run: bench/serve-bench.sh --model ../shared/models/stories260K.gguf --loads 8:4:20:16
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${FOLIO_SHARED_DIR:-$root/../shared}"
bench_dir="${FOLIO_BENCH_DIR:-$HOME/.cache/folio-bench}"
model="$bench_dir/bench-300m-Q8_0.gguf"
folio="$root/build/app/folio"
loads="32:16:100:64 200:64:100:64"
serve_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --folio) folio="$2"; shift 2 ;;
    --loads) loads="$2"; shift 2 ;;
    --) shift; serve_flags=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "serve-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ -x "$folio" ] || { echo "serve-bench: no folio binary at $folio (build it, or pass --folio)" >&2; exit 1; }
if [ ! -f "$model" ]; then
  case "$(basename "$model")" in
    bench-300m-Q8_0.gguf) FOLIO_BENCH_DIR="$bench_dir" "$shared/bench/make-bench-models.sh" bench-300m ;;
    bench-1b-Q8_0.gguf) FOLIO_BENCH_DIR="$bench_dir" "$shared/bench/make-bench-models.sh" bench-1b ;;
  esac
fi
[ -f "$model" ] || { echo "serve-bench: model not found: $model" >&2; exit 1; }
id="$(basename "$model" .gguf)"

log="$(mktemp -t folio-serve-bench.XXXXXX.log)"
"$folio" serve -m "$model" --port 0 --shutdown-grace 5 "${serve_flags[@]}" 2>"$log" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT

port=""
for _ in $(seq 600); do
  port="$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -1)"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "serve-bench: the server did not listen" >&2; cat "$log" >&2; exit 1; }
url="http://127.0.0.1:$port"
python3 - "$url" <<'PY'
import sys, time, urllib.request
for _ in range(6000):
    try:
        if urllib.request.urlopen(sys.argv[1] + "/health", timeout=5).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit("serve-bench: /health never said 200")
PY

mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MiB  ", $1, $2/1024}' "/proc/$pid/status"; }
echo "model: $model"
echo "server: $(grep -m1 -o "model '.*" "$log")"
echo "memory when ready: $(mem)"
for load in $loads; do
  IFS=: read -r requests concurrency words tokens <<<"$load"
  echo "== load: --requests $requests --concurrency $concurrency --prompt-words $words --max-tokens $tokens"
  python3 "$shared/bench/loadgen.py" --url "$url" --model "$id" --requests "$requests" \
    --concurrency "$concurrency" --prompt-words "$words" --max-tokens "$tokens"
  echo "memory after: $(mem)"
done
cleanup
trap - EXIT
echo "server log: $log"
