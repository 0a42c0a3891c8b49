# Sourced (POSIX sh) by scripts/clean-room.sh and the release workflow's package
# tests: starts `$CLI sandbox` on a free loopback port with a fixed clock and sets
# BASE_URL (its API URL), TODAY (its calendar day) and SANDBOX_PID (for kill).
# Env: CLI=path/to/sendcloud-status   SANDBOX_LOG=file (default: a temp file)

: "${CLI:?CLI must name the sendcloud-status binary}"
SANDBOX_LOG=${SANDBOX_LOG:-$(mktemp)}
"$CLI" sandbox --port 0 --records 3000 --rate-limit 0 --now '2024-05-20 12:00:00' >"$SANDBOX_LOG" 2>&1 &
SANDBOX_PID=$!
BASE_URL=
tries=0
while [ -z "$BASE_URL" ] && [ "$tries" -lt 150 ]; do
  BASE_URL=$(sed -n 's/^sandbox listening on \(http:[^ ]*\)$/\1/p' "$SANDBOX_LOG")
  [ -n "$BASE_URL" ] && break
  kill -0 "$SANDBOX_PID" 2>/dev/null || break
  tries=$((tries + 1))
  sleep 0.2
done
if [ -z "$BASE_URL" ]; then
  echo "the sandbox did not start:" >&2
  cat "$SANDBOX_LOG" >&2
  exit 1
fi
TODAY=2024-05-20
export BASE_URL TODAY SANDBOX_PID
echo "sandbox at $BASE_URL (pid $SANDBOX_PID)"
