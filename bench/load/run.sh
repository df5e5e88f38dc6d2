#!/usr/bin/env bash
# A bounded load run against gunicorn on loopback; see docs/benchmarks.md ("Load run").
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load bench/load/run.sh [USERS] [SECONDS] [SPAWN_RATE]
#
# Needs `pip install -e '.[load]'` and a database seeded with seed_demo (its demo accounts log
# in). Counts log entries and drafts before and after, starts gunicorn (the repo's config) on
# 127.0.0.1:$PORT, runs locust headless for SECONDS with USERS users (SPAWN_RATE new users a
# second, each logging in once: a login is ~0.7 s of CPU, so a fast ramp swamps 2 cores),
# stops both, and checks that the entries the database gained are exactly the ones the
# simulated users' Finishes reported, and the CPU per request of the steady state
# (bench/load/cpu_use.py: the machine's busy share, gunicorn's and PostgreSQL's CPU time). Exits
# non-zero on any error or mismatch.
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS=${1:-200}
SECONDS_TO_RUN=${2:-330}
SPAWN_RATE=${3:-1.5}
PORT=${LOAD_PORT:-8011}
OUT=${LOAD_OUT:-/tmp/crm-load}
: "${DATABASE_URL:?set DATABASE_URL to a scratch database seeded with seed_demo}"
export DATABASE_URL LOAD_RESULTS="$OUT/finishes.json"
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/finishes.json "$OUT"/cpu.jsonl
DBNAME=${DATABASE_URL##*/}
DBNAME=${DBNAME%%\?*}

count() {
  DJANGO_SETTINGS_MODULE=crm_site.settings .venv/bin/python -c "
import django; django.setup()
from django.db.models import Max
from interactions.models import InteractionDraft, InteractionLogEntry
entries = InteractionLogEntry.objects
print(entries.count(), entries.aggregate(m=Max('pk'))['m'] or 0, InteractionDraft.objects.count())"
}

read -r ENTRIES_BEFORE MAX_BEFORE DRAFTS_BEFORE < <(count)
echo "before: $ENTRIES_BEFORE entries (highest no. $MAX_BEFORE), $DRAFTS_BEFORE drafts"

.venv/bin/python manage.py collectstatic --noinput --verbosity 0
GUNICORN_BIND=127.0.0.1:$PORT GUNICORN_ACCESS_LOG=/dev/null \
  .venv/bin/gunicorn --config crm_site/gunicorn.conf.py crm_site.wsgi >"$OUT/gunicorn.log" 2>&1 &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

.venv/bin/python bench/load/cpu_use.py sample "$OUT/cpu.jsonl" "$DBNAME" &
SAMPLER=$!
# Autovacuum's analyze where the server runs without it (this machine's does): every 30 s, of
# the two small tables the run changes past autovacuum's threshold (the big ones gain ~0.1 %),
# so plans follow the drafts the run makes. Statistics from before the run (page_cost.py's
# drafts, all for one contact) once made the wizard's draft read a merge join over the
# contacts' primary key: 30-90 ms a request instead of 0.4 ms.
DJANGO_SETTINGS_MODULE=crm_site.settings .venv/bin/python -c "
import time, django; django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute('SHOW autovacuum')
    while cursor.fetchone()[0] == 'off':
        cursor.execute('ANALYZE interactions_interactiondraft, django_session')
        time.sleep(30)
        cursor.execute('SHOW autovacuum')
" &
ANALYZER=$!
trap 'kill $GUNICORN $SAMPLER $ANALYZER 2>/dev/null || true' EXIT

status=0
.venv/bin/locust -f bench/load/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
  --users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "${SECONDS_TO_RUN}s" --stop-timeout 30 \
  --csv "$OUT/load" --only-summary || status=$?

kill $GUNICORN $SAMPLER $ANALYZER 2>/dev/null || true
wait $GUNICORN 2>/dev/null || true
trap - EXIT
.venv/bin/python bench/load/cpu_use.py report "$OUT/cpu.jsonl" "$OUT/load_stats_history.csv" "$USERS" || true

read -r ENTRIES_AFTER MAX_AFTER DRAFTS_AFTER < <(count)
echo "after:  $ENTRIES_AFTER entries (highest no. $MAX_AFTER), $DRAFTS_AFTER drafts"
.venv/bin/python - "$OUT/finishes.json" "$ENTRIES_BEFORE" "$ENTRIES_AFTER" "$MAX_BEFORE" <<'PY' || status=1
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
import django
django.setup()
from interactions.models import InteractionLogEntry

report = json.load(open(sys.argv[1]))
before, after, highest = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
reported = report["entries"]
new = list(InteractionLogEntry.objects.filter(pk__gt=highest).order_by("pk").values_list("pk", flat=True))
print(f"Finishes reported by the users: {report['finished']}; entries the database gained: {after - before}")
duplicates = len(reported) - len(set(reported))
ok = after - before == len(reported) and sorted(new) == sorted(reported) and not duplicates
print("writes: " + ("every Finish logged exactly one entry, no other entry appeared" if ok else
      f"MISMATCH (reported {len(reported)}, duplicates {duplicates}, new rows {len(new)})"))
print(f"journeys that went wrong without an HTTP error: {len(report['failures'])}")
sys.exit(0 if ok and not report["failures"] else 1)
PY
echo "locust statistics: $OUT/load_stats.csv"
exit $status
