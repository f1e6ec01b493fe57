#!/usr/bin/env bash
# ENTRYPOINT and CMD: run's arguments replace CMD, --entrypoint replaces both.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
ENTRYPOINT ["echo", "entry"]
CMD ["default"]
DF
d build -q -t ep:1 "$T/c" >/dev/null
is "$(d run --rm ep:1)" "entry default" "ENTRYPOINT + CMD"
is "$(d run --rm ep:1 given args)" "entry given args" "arguments replace CMD"
is "$(d run --rm --entrypoint /bin/echo ep:1 other)" "other" "--entrypoint replaces ENTRYPOINT (and CMD)"
ctx "$T/s" <<'DF'
FROM busybox
ENTRYPOINT echo shell-form $0
CMD ["ignored"]
DF
d build -q -t ep:2 "$T/s" >/dev/null
is "$(d run --rm ep:2)" "shell-form ignored" "a shell-form ENTRYPOINT: CMD comes after its sh -c (\$0)"
is "$(d run --rm ep:2 x)" "shell-form x" "and so do run's arguments"
done_testing
