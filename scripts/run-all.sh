#!/usr/bin/env bash
# Web server, Celery worker and Celery beat together; Ctrl-C stops all three.
# The worker and beat log to var/log/ (the console stays for the web server and the block that
# says where everything is); PORT changes the port (8000).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/run var/log var/mail
port="${PORT:-8000}"
url="http://127.0.0.1:${port}/"
pids=()
interrupted=""
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'interrupted=1; stop; exit 130' INT TERM

celery -A config worker --loglevel=INFO --concurrency=2 --pidfile=var/run/worker.pid \
  >>var/log/worker.log 2>&1 &
pids+=($!)
celery -A config beat --loglevel=INFO --pidfile=var/run/beat.pid >>var/log/beat.log 2>&1 &
pids+=($!)
python manage.py runserver "127.0.0.1:${port}" &
server=$!
pids+=("$server")

# The block (address, accounts, where mail goes, how to stop) once the server answers.
while kill -0 "$server" 2>/dev/null; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    python manage.py seed_demo --summary-only --url "$url"
    break
  fi
  sleep 0.5
done

status=0
wait -n || status=$?
# Ctrl-C reaches every process of the group: a server stopped by it (130) is no news.
if [ -z "$interrupted" ] && [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; then
  echo "Relève: a process stopped (logs: var/log/worker.log, var/log/beat.log); stopping the others." >&2
fi
