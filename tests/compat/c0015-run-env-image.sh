#!/usr/bin/env bash
# the environment: the image's ENV, -e over it, a default PATH.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
ENV MODE=prod LEVEL=1
DF
d build -q -t envimg:1 "$T/c" >/dev/null
is "$(d run --rm envimg:1 sh -c 'echo $MODE $LEVEL')" "prod 1" "the image's ENV"
is "$(d run --rm -e MODE=dev envimg:1 sh -c 'echo $MODE $LEVEL')" "dev 1" "-e overrides it"
like "$(d run --rm busybox sh -c 'echo $PATH')" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "a default PATH"
is "$(MYVAR=fromhost d run --rm -e MYVAR envimg:1 sh -c 'echo $MYVAR')" fromhost "-e NAME takes the caller's value"
done_testing
