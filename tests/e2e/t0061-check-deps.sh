#!/usr/bin/env bash
# make check-deps (tests/deps/check.py) on a small tree of its own: an
# upward include, a new store path join and a file past 1,000 lines fail
# (the last with no allowlist); allowed joins pass; the real tree passes.
. "$(dirname "$0")/lib.sh"

W=$T/tree
mkdir -p "$W/tests/deps" "$W/common" "$W/store" "$W/builder" "$W/cmd" "$W/parser"
cp "$TOP/tests/deps/check.py" "$W/tests/deps/"
: > "$W/tests/deps/store-paths.allow"
printf '#include "common/util.h"\n' > "$W/store/store.c"
printf '#include "store/store.h"\n#include "parser/plan.h"\n' > "$W/builder/build.c"
printf '#include "builder/builder.h"\n' > "$W/cmd/main.c"
check() { CHECK_DEPS_TOP=$W python3 "$W/tests/deps/check.py" 2>&1; }

out=$(check); ok $? "a clean tree passes"

printf '#include "store/store.h"\n' > "$W/parser/plan.c"
out=$(check); is $? 1 "parser including store fails"
like "$out" "parser/plan.c:1: parser/ may not include store/" "the error names the file, line and arrow"
: > "$W/parser/plan.c"

printf '#include "cmd/cmd.h"\n' > "$W/common/util.c"
out=$(check); is $? 1 "common including cmd fails"
: > "$W/common/util.c"

printf 'char *p = store_path(st, "containers");\n' >> "$W/builder/build.c"
out=$(check); is $? 1 "a new store_path join outside store/ fails"
like "$out" "builder/build.c: joins paths under the store root on 1 line" "the error says where"
echo "builder/build.c 1" > "$W/tests/deps/store-paths.allow"
out=$(check); ok $? "an allowed join passes"
printf 'x = cb_asprintf("%%s/cache/%%s.json", store_root(st), h);\n' >> "$W/builder/build.c"
out=$(check); is $? 1 "one more join than allowed fails"
printf 'y = cb_asprintf("containers/%%s", id);\n' > "$W/cmd/run.c"
out=$(check); is $? 1 "a relative path starting with a store folder fails"
rm "$W/cmd/run.c"
printf 'char *p = store_path(st, "x");\n' > "$W/store/extra.c"
printf '/* ROOT/containers/ID */\n' >> "$W/cmd/main.c"
echo "builder/build.c 2" > "$W/tests/deps/store-paths.allow"
out=$(check); ok $? "store/ itself and comments may name store paths"

seq 1001 > "$W/cmd/long.c"
out=$(check); is $? 1 "a new file over 1,000 lines fails"
like "$out" "cmd/long.c: 1001 lines, over 1000" "the error gives the length"
echo "cmd/long.c 1001" > "$W/tests/deps/long-files.allow"
out=$(check); is $? 1 "there is no allowlist for long files: long-files.allow is not read"
rm "$W/tests/deps/long-files.allow"
seq 1000 > "$W/cmd/long.c"
out=$(check); ok $? "a file of exactly 1,000 lines passes"

out=$(python3 "$TOP/tests/deps/check.py" 2>&1); ok $? "the real tree passes"
[ $? = 0 ] || diag "$out"
done_testing
