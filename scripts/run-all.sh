#!/usr/bin/env bash
# Web server, Celery worker and Celery beat together; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/run
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

celery -A config worker --loglevel=INFO --concurrency=2 --pidfile=var/run/worker.pid &
pids+=($!)
celery -A config beat --loglevel=INFO --pidfile=var/run/beat.pid &
pids+=($!)
echo "Relève: http://127.0.0.1:8000 (worker and beat on the filesystem broker under var/celery)"
python manage.py runserver 127.0.0.1:8000 &
pids+=($!)
wait -n
