#!/usr/bin/env bash
# Several app servers behind HAProxy on loopback, the load run's locust mix (with a few users
# logging small segments: cluster_mix.py) through it, and a fault mid-run; see
# docs/operations.md ("Fault runs").
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load bench/cluster/run.sh FAULT [USERS] [SECONDS] [SERVERS] [SPAWN_RATE]
#
# FAULT is one of
#   none     no fault: the cluster's baseline;
#   sigterm  the second server gets SIGTERM at the middle of the run (it drains, then stops);
#   sigkill  the second server's processes all get SIGKILL at the middle of the run;
#   dbcut    pg_terminate_backend of every app server connection at the middle of the run;
#   all      sigterm, sigkill and dbcut one after another (the summary lines again at the end).
# Defaults: 200 users, 300 s, 3 servers, 2 new users a second. The database must be seeded with
# seed_demo (its demo accounts log in) and `pip install -e '.[load]'` done (locust).
# Environment: CLUSTER_PORT (balancer, default 8100; server n listens on 127.0.0.(n+1):PORT+n),
# CLUSTER_WORKERS (sync workers per server, default 3), CLUSTER_FAULT_AT (seconds into the
# run, default half of it), CLUSTER_DRAIN_SECONDS (GUNICORN_DRAIN_SECONDS, default 5),
# CLUSTER_LOGGERS (users who log segments, default 2),
# CLUSTER_OUT (logs, default /tmp/crm-cluster). Needs HAProxy: installed with apt-get when
# missing (as root). Only loopback addresses; everything it starts is stopped when it exits.
# Each run prints one summary line ending in PASS or FAIL; the exit status is 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

FAULT=${1:?usage: bench/cluster/run.sh none|sigterm|sigkill|dbcut|all [USERS] [SECONDS] [SERVERS] [SPAWN_RATE]}
USERS=${2:-200}
SECONDS_TO_RUN=${3:-300}
SERVERS=${4:-3}
SPAWN_RATE=${5:-2}
PORT=${CLUSTER_PORT:-8100}
WORKERS=${CLUSTER_WORKERS:-3}
FAULT_AT=${CLUSTER_FAULT_AT:-$((SECONDS_TO_RUN / 2))}
DRAIN=${CLUSTER_DRAIN_SECONDS:-5}
OUT=${CLUSTER_OUT:-/tmp/crm-cluster}
: "${DATABASE_URL:?set DATABASE_URL to a scratch database seeded with seed_demo}"
export DATABASE_URL
case $FAULT in none | sigterm | sigkill | dbcut | all) ;; *) echo "unknown fault: $FAULT" >&2; exit 2 ;; esac
if [ "$SERVERS" -lt 2 ] || [ "$SERVERS" -gt 9 ]; then echo "SERVERS must be 2-9" >&2; exit 2; fi
if [ "$FAULT_AT" -ge "$SECONDS_TO_RUN" ]; then echo "the fault must come before the end" >&2; exit 2; fi
PY=.venv/bin/python
mkdir -p "$OUT"

if ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "HAProxy is missing: apt-get install haproxy (as root)" >&2; exit 1; fi
  echo "Installing HAProxy from the Debian packages ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null; }
fi

declare -a SERVER_PIDS=()
HAPROXY_PID=""
LOCUST_PID=""

stop_all() {
  # Stop everything this script started (each server is a process group of its own; SIGINT is
  # gunicorn's quick stop), give it a bounded time to go, then SIGKILL what is left.
  local pid
  [ -n "$LOCUST_PID" ] && kill "$LOCUST_PID" 2>/dev/null || true
  for pid in "${SERVER_PIDS[@]}"; do kill -INT -- "-$pid" 2>/dev/null || true; done
  [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    local alive=0
    for pid in "${SERVER_PIDS[@]}" $HAPROXY_PID $LOCUST_PID; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${SERVER_PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  for pid in $HAPROXY_PID $LOCUST_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  SERVER_PIDS=()
  HAPROXY_PID=""
  LOCUST_PID=""
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start_server() { # n (1-based): 127.0.0.(n+1):PORT+n
  local n=$1
  GUNICORN_BIND=127.0.0.$((n + 1)):$((PORT + n)) WEB_CONCURRENCY=$WORKERS \
    GUNICORN_ACCESS_LOG=/dev/null GUNICORN_DRAIN_SECONDS=$DRAIN BEHIND_PROXY=true \
    setsid .venv/bin/gunicorn --config crm_site/gunicorn.conf.py crm_site.wsgi \
    >"$OUT/app$n.log" 2>&1 &
  SERVER_PIDS[n]=$!
}

write_haproxy_cfg() {
  local n
  cat >"$OUT/haproxy.cfg" <<EOF
# Written by bench/cluster/run.sh; the reference configuration is in docs/operations.md.
global
    log stdout format raw local0
    stats socket $OUT/haproxy.sock mode 600 level admin
    maxconn 4000

defaults
    mode http
    log global
    # accept time, handshake + idle ms before the request, its active ms, backend/server,
    # status, termination state, retries, method, URI
    log-format "%Ts.%ms %Th %Ti %Ta %b/%s %ST %tsc %rc %HM %HU"
    timeout connect 2s
    timeout client 130s
    timeout server 130s
    timeout queue 60s
    timeout http-request 10s
    # A connection that failed never reached a server: try again, on another server.
    retries 3
    option redispatch 1
    # An empty answer (the server died mid-request) is retried for GET and HEAD only: they never
    # write. A POST that may have reached a server is never sent twice.
    retry-on conn-failure empty-response
    option forwardfor

frontend crm
    bind 127.0.0.1:$PORT
    http-request set-header X-Forwarded-Proto http
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    default_backend app

backend app
    balance leastconn
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    # maxconn = the server's sync workers: the rest wait in HAProxy's queue, not in a backlog
    # of a server that may die, and are sent to another server if it does. A server that
    # refuses a real request's connection is marked down at once (without it, leastconn keeps
    # choosing the dead server, which has the fewest connections, until the checks fail).
    default-server inter 1s fall 2 rise 2 maxconn $WORKERS observe layer4 error-limit 1 on-error mark-down
EOF
  for n in $(seq "$SERVERS"); do
    echo "    server app$n 127.0.0.$((n + 1)):$((PORT + n)) check" >>"$OUT/haproxy.cfg"
  done
  haproxy -c -q -f "$OUT/haproxy.cfg" || exit 1
}

run_one() { # fault -> prints the summary line; $OUT/failed-FAULT if the run failed
  local fault=$1 victim=app2 fault_time="" fault_after=0 down_after="" cut="" stopped_after=""
  rm -f "$OUT"/load_*.csv "$OUT"/finishes*.json "$OUT/haproxy.sock" "$OUT/failed-$fault"
  local entries highest logged highest_logged
  read -r entries highest logged highest_logged < <($PY bench/cluster/cluster.py count)
  echo "== $fault: $SERVERS servers x $WORKERS workers, $USERS users, $SECONDS_TO_RUN s" \
    "(before: $entries entries, $logged logged segments)"

  for n in $(seq "$SERVERS"); do start_server "$n"; done
  for n in $(seq "$SERVERS"); do
    for _ in $(seq 600); do
      curl -fsS -H "Host: 127.0.0.1" "http://127.0.0.$((n + 1)):$((PORT + n))/healthz" \
        >/dev/null 2>&1 && break
      kill -0 "${SERVER_PIDS[n]}" 2>/dev/null || { tail "$OUT/app$n.log" >&2; exit 1; }
      sleep 0.1
    done
  done
  write_haproxy_cfg
  haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy-$fault.log" 2>&1 &
  HAPROXY_PID=$!
  $PY bench/cluster/cluster.py wait-up "$OUT/haproxy.sock" "$SERVERS" || exit 1

  LOAD_RESULTS="$OUT/finishes.json" .venv/bin/locust -f bench/cluster/cluster_mix.py --headless \
    --host "http://127.0.0.1:$PORT" --users "$USERS" --spawn-rate "$SPAWN_RATE" \
    --run-time "${SECONDS_TO_RUN}s" --stop-timeout 30 --csv "$OUT/load" --only-summary \
    >"$OUT/locust-$fault.log" 2>&1 &
  LOCUST_PID=$!
  local started
  started=$(date +%s.%N)

  if [ "$fault" != none ]; then
    sleep "$FAULT_AT"
    fault_time=$(date +%s.%N)
    fault_after=$(awk "BEGIN { print $fault_time - $started }")
    case $fault in
      sigterm) kill -TERM "${SERVER_PIDS[2]}" ;;
      sigkill) kill -KILL -- "-${SERVER_PIDS[2]}" ;;
      dbcut) # the cut's own time: Django starting up in cluster.py takes a second or more
        read -r cut fault_time < <($PY bench/cluster/cluster.py cut-connections)
        fault_after=$(awk "BEGIN { print $fault_time - $started }") ;;
    esac
    if [ "$fault" != dbcut ]; then
      down_after=$($PY bench/cluster/cluster.py wait-down "$OUT/haproxy.sock" "$victim")
    fi
    if [ "$fault" = sigterm ]; then # how long it took to drain and stop (bounded)
      for _ in $(seq 1200); do kill -0 "${SERVER_PIDS[2]}" 2>/dev/null || break; sleep 0.1; done
      stopped_after=$(awk "BEGIN { print int($(date +%s.%N) - $fault_time + 0.5) }")
    fi
  fi

  wait "$LOCUST_PID" || true
  LOCUST_PID=""
  stop_all
  $PY bench/cluster/cluster.py summary --fault "$fault" --victim "$victim" \
    ${fault_time:+--fault-time "$fault_time"} --fault-after "$fault_after" \
    --down-after "$down_after" --stopped-after "$stopped_after" --drain "$DRAIN" --cut "$cut" \
    --results "$OUT/finishes.json" --haproxy-log "$OUT/haproxy-$fault.log" \
    --highest-entry "$highest" --highest-logged "$highest_logged" | tee "$OUT/summary-$fault.txt" ||
    touch "$OUT/failed-$fault"
}

.venv/bin/python manage.py collectstatic --noinput --verbosity 0
if [ "$FAULT" = all ]; then
  FAULTS="sigterm sigkill dbcut"
else
  FAULTS=$FAULT
fi
for fault in $FAULTS; do run_one "$fault"; done
if [ "$FAULT" = all ]; then
  echo "== summary"
  for fault in $FAULTS; do cat "$OUT/summary-$fault.txt"; done
fi
for fault in $FAULTS; do [ ! -e "$OUT/failed-$fault" ] || exit 1; done
