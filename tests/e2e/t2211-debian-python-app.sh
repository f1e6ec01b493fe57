#!/bin/bash
# t2211: a Python app on Debian bookworm: `COPY . .`, a USER, and a one-file
# change rebuilt from the COPY only (the apt step is a cache hit). buildah
# builds the same tree from the same base. Needs the Debian mirror.
. "$(dirname "$0")/lib.sh"
import_debian
mkdir -p "$T/ctx"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3-minimal && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 app
WORKDIR /app
COPY . .
USER app
ENV PYTHONDONTWRITEBYTECODE=1
CMD ["python3", "app.py"]
DF
cat > "$T/ctx/app.py" <<'PY'
import os, greeting
print(greeting.TEXT, "as", os.getuid())
PY
echo 'TEXT = "hello"' > "$T/ctx/greeting.py"
BH_PID=
if command -v buildah >/dev/null; then
	cp -a "$T/ctx" "$T/bctx"
	bh_base debian:bookworm || diag "$(cat "$T/bh.err")"
	bh_build app "$T/bctx" & BH_PID=$!; _bg_pids+=("$BH_PID")
fi
build() { SOURCE_DATE_EPOCH=1704067200 cb build --progress plain -t app:1 "$T/ctx" >"$T/build.out" 2>&1; }
build; ok $? "the app builds" || diag "$(tail -20 "$T/build.out")"
is "$(cb run --rm app:1 2>&1)" "hello as 1000" "it runs as its USER"
cb tag app:1 app:1-first

echo 'TEXT = "bonjour"' > "$T/ctx/greeting.py"
build; ok $? "rebuild after changing greeting.py" || diag "$(tail -20 "$T/build.out")"
after() { grep -A1 "^STEP $1/8: " "$T/build.out" | sed -n 2p; }
like "$(after 2)" '^--> Using cache' "the apt-get step is a cache hit"
like "$(after 3)" '^--> Using cache' "the useradd step is a cache hit"
like "$(after 4)" '^--> Using cache' "the WORKDIR step is a cache hit"
steps=$(grep '^STEP' "$T/build.out")
like "$steps" 'STEP 5/8: COPY \. \.  \(cache miss: greeting.py changed\)' "the COPY re-runs, because greeting.py changed"
is "$(cb run --rm app:1 2>&1)" "bonjour as 1000" "the new image has the change"

if [ -n "$BH_PID" ]; then
	# buildah built the first version: compare it with cbuild's first
	wait "$BH_PID"; ok $? "buildah builds it too" || diag "$(tail -20 "$T/bh.err")"
	out=$(same_tree app:1-first "$T/bh.tar" --apt 2>&1)
	ok $? "cbuild's and buildah's images are the same tree and config" || diag "$out"
fi
done_testing
