#!/bin/bash
# t2200: differential tests against buildah on a fixed set of generated
# Dockerfiles (tests/difftest; `make difftest N=500` runs many). A failing
# seed prints its Dockerfile, context and the differences.
. "$(dirname "$0")/lib.sh"
command -v buildah >/dev/null || skip_all "buildah is not installed (make deps)"
out=$(python3 "$TOP/tests/difftest/test_ocitree.py" 2>&1)
ok $? "the oracle's layer reader applies whiteouts, opaque dirs and hard links" || diag "$out"
# Seeds chosen to cover every generator branch in a few seconds each; a
# regression seed goes at the end of this list.
SEEDS=${DIFFTEST_SEEDS:-1-8}
out=$(python3 "$TOP/tests/difftest/difftest.py" --cbuild "$CBUILD" --work "$T/dt" --seeds "$SEEDS" 2>&1)
rc=$?
ok $rc "cbuild and buildah give the same trees and configs on seeds $SEEDS, rebuilds hit the cache"
[ $rc = 0 ] || diag "$out"
done_testing
