#!/usr/bin/env bash
# Delivery throughput of the compose cluster with 1, 2 and 3 deliverers against a next hop that takes a fixed
# 50 ms per message, once with mail to 48 domains (48 next hops, one route-domain relay each) and once all through
# one smart host; and the ingest rate through 1 and 2 ingress nodes. A benchmark: it prints figures, asserts nothing.
#
# Each deliverer may hold BENCH_CONNECTIONS_PER_DELIVERER (default 4) outbound connections, so one deliverer
# delivers at most 4 / 50 ms = 80 msg/s: the curve shows whether the work spreads over the deliverers. Messages are
# queued first with the routers stopped, then the deliverers start, then the routers: the rate is the sink's, from
# its first message to its last. Needs the image (docker/base-image.sh && docker-compose build) and a JDK.
# Usage: bench/cluster-scale.sh [MESSAGES]    (default 4000; about 15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_MESSAGES="${1:-4000}" BENCH_DELAY_MS="${BENCH_DELAY_MS:-50}"
export BENCH_CONNECTIONS_PER_DELIVERER="${BENCH_CONNECTIONS_PER_DELIVERER:-4}"
export MAILROOT_MAX_CONNECTIONS_PER_CLIENT=500
mkdir -p bench/target/classes
javac -d bench/target/classes bench/SmtpSink.java bench/SmtpLoad.java
project=mrbench
compose() { docker-compose -p "$project" -f docker-compose.yml -f bench/cluster-scale.yml "$@"; }
routes="{"
for i in $(seq 0 47); do routes+="d$i.test: \"sink:$((2600 + i))\", "; done
routes="${routes%, }}"

healthy() {  # waits until N containers of a service are healthy
  local service=$1 want=$2 deadline=$((SECONDS + 300))
  while :; do
    local n=0
    for c in $(compose ps -q "$service"); do
      [ "$(docker inspect -f '{{.State.Health.Status}}' "$c")" = healthy ] && n=$((n + 1))
    done
    [ "$n" -ge "$want" ] && return 0
    [ $SECONDS -gt $deadline ] && { echo "$service: $n of $want healthy after 300 s" >&2; return 1; }
    sleep 1
  done
}

load() {  # load PORT COUNT TO DOMAINS: prints accepted msg/s
  java -cp bench/target/classes SmtpLoad --port "$1" --messages "$2" --connections 16 --size 10 --to "$3" --domains "$4" \
    | sed -n 's/.* \([0-9][0-9]*\) msg\/s.*/\1/p' | head -1
}

results=()
for mode in domains smarthost; do
  for n in 1 2 3; do
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    if [ "$mode" = domains ]; then
      export BENCH_ROUTE_DOMAINS="$routes" MAILROOT_SMART_HOST=null; to='bench@d{n}.test'; k=48
    else
      export BENCH_ROUTE_DOMAINS="{}" MAILROOT_SMART_HOST=sink:2600; to='bench@d{n}.test'; k=48
    fi
    compose up -d --scale router=0 --scale deliverer=0 >/dev/null 2>&1
    healthy ingress1 1; healthy ingress2 1
    half=$((BENCH_MESSAGES / 2))
    if [ "$mode" = domains ] && [ "$n" = 1 ]; then
      one=$(load 2525 "$half" "$to" "$k")
      both=$( (load 2525 $((half / 2)) "$to" "$k" & load 2526 $((half - half / 2)) "$to" "$k" & wait) | paste -sd+ | bc)
      results+=("ingest, 10 KB, 16 connections: 1 ingress node $one msg/s; 2 ingress nodes $both msg/s (sum of both ports)")
    else
      load 2525 "$half" "$to" "$k" >/dev/null & load 2526 $((BENCH_MESSAGES - half)) "$to" "$k" >/dev/null; wait
    fi
    compose up -d --no-recreate --scale router=0 --scale deliverer="$n" >/dev/null 2>&1
    healthy deliverer "$n"
    sleep 10   # let the consumer group settle on n members before mail arrives (a benchmark, not a test)
    compose up -d --no-recreate --scale router=2 --scale deliverer="$n" >/dev/null 2>&1
    sink=$(compose ps -q sink)
    timeout 900 docker wait "$sink" >/dev/null
    rate=$(docker logs "$sink" 2>&1 | sed -n 's/.* \([0-9][0-9]*\) msg\/s$/\1/p' | tail -1)
    results+=("$mode, $n deliverer(s): $rate msg/s")
    echo "${results[-1]}"
  done
done
compose down -v --remove-orphans >/dev/null 2>&1 || true
printf '%s\n' "${results[@]}"
