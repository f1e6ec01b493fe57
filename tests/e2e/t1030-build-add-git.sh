#!/usr/bin/env bash
# ADD <git URL>: BuildKit's git source. A repository served by `git daemon`
# on 127.0.0.1 is cloned at a ref (tag, branch, commit, HEAD) with the
# system's git, with or without its .git (--keep-git-dir), or one of its
# subdirectories (#REF:SUBDIR); the cache is keyed on the commit the ref
# resolves to, so a new commit on a branch misses and a tag still hits.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || skip_all "git is not installed"
import_busybox
g() { git -C "$T/git/repo.git" -c user.name=t -c user.email=t@t "$@"; }
mkdir -p "$T/git/repo.git/sub" "$T/ctx"
git init -q -b main "$T/git/repo.git"
echo v1 > "$T/git/repo.git/version"
echo in-sub > "$T/git/repo.git/sub/file"
printf '#!/bin/sh\necho hi\n' > "$T/git/repo.git/run.sh"; chmod 755 "$T/git/repo.git/run.sh"
g add -A && g commit -qm one && g tag v1
c1=$(g rev-parse HEAD)
echo v2 > "$T/git/repo.git/version"
g commit -qam two
c2=$(g rev-parse HEAD)

port=$(free_port)
start_bg git daemon --reuseaddr --export-all --base-path="$T/git" --listen=127.0.0.1 --port="$port" "$T/git"
wait_port "$port" 10; ok $? "git daemon on 127.0.0.1"
url=git://127.0.0.1:$port/repo.git

cat > "$T/ctx/Dockerfile" <<DF
FROM busybox
ADD $url#v1 /tag
ADD --keep-git-dir=true $url /head
ADD $url#main:sub /sub
ADD $url#$c1 /byid
DF
cb plan --format json "$T/ctx" > "$T/plan.json" 2>/dev/null; ok $? "plan"
grep -c '"git": true' "$T/plan.json" | grep -qx 4; ok $? "the plan marks the four git sources"

cb build -t t1030:1 "$T/ctx" > "$T/log1" 2>&1; ok $? "build with ADD of a git repository"
[ $? -eq 0 ] || diag "$(cat "$T/log1")"
unpack t1030:1 "$T/u"
r=$T/u/rootfs
is "$(cat "$r/tag/version")" "v1" "#v1: the tag's tree"
[ ! -e "$r/tag/.git" ]; ok $? "without --keep-git-dir there is no .git"
is "$(cat "$r/head/version")" "v2" "no ref: HEAD"
is "$(git -C "$r/head" rev-parse HEAD 2>/dev/null)" "$c2" "--keep-git-dir keeps .git at the commit"
is "$(cat "$r/sub/file")" "in-sub" "#main:sub: the subdirectory's content"
[ ! -e "$r/sub/version" ]; ok $? "only the subdirectory"
is "$(cat "$r/byid/version")" "v1" "#COMMIT: that commit"
is "$(stat -c %a "$r/tag/run.sh")" "755" "an executable stays executable"
# the tree is the commit's tree: the same paths and modes as git's own
# checkout (`git ls-tree`), nothing more
(cd "$r/tag" && find . -type f | sed 's|^\./||' | sort | while read -r f; do
	m=$(stat -c %a "$f"); [ "$m" = 755 ] && m=100755 || m=100644; echo "$m $f"; done) > "$T/got"
g ls-tree -r v1 | awk '{ print $1, $4 }' | sort -k2 > "$T/want"
diff "$T/want" "$T/got" >&2; ok $? "the files and modes of the tag's tree, as git ls-tree lists them"

cb build -t t1030:1 "$T/ctx" > "$T/log2" 2>&1; ok $? "rebuild"
is "$(grep -c 'Using cache' "$T/log2")" 4 "same commits: every ADD is a cache hit"
echo v3 > "$T/git/repo.git/version"
g commit -qam three
cb build -t t1030:2 "$T/ctx" > "$T/log3" 2>&1; ok $? "build after a new commit on main"
grep -q "STEP 2/5: ADD $url#v1 /tag" "$T/log3" && grep -A1 "STEP 2/5" "$T/log3" | grep -q 'Using cache'
ok $? "the tag still resolves to its commit: cache hit"
grep -A1 "STEP 3/5" "$T/log3" | grep -q 'Using cache'; is $? 1 "HEAD moved: cache miss"
unpack t1030:2 "$T/u2"
is "$(cat "$T/u2/rootfs/head/version")" "v3" "and the new commit is in"

printf 'FROM busybox\nADD %s#nope /x\n' "$url" > "$T/ctx/Dockerfile"
err=$(cb build "$T/ctx" 2>&1); is $? 1 "a ref the remote lacks fails the build"
like "$err" "has no ref 'nope'" "the error names the ref"
printf 'FROM busybox\nADD %s x /x\n' "$url" > "$T/ctx/Dockerfile"
err=$(cb build "$T/ctx" 2>&1); is $? 1 "a repository with another source is refused"
like "$err" "must be the only source" "the error says so"
done_testing
