#!/usr/bin/env bash
# The command line (issue 26): every verb's --help lists its options with a
# line of meaning, from the table that parses them; the man pages and the
# bash/zsh completions come from the same tables; docker's exit codes.
. "$(dirname "$0")/lib.sh"

# every page `make install` writes is a verb or subcommand whose --help works
pages=$(cb __doc man-list); ok $? "__doc man-list"
[ "$(printf '%s\n' "$pages" | wc -l)" -ge 40 ]; ok $? "man-list names every verb and subcommand"
bad=
for p in $pages; do
	[ "$p" = cbuild ] && continue
	words=$(printf '%s' "${p#cbuild-}" | tr '-' ' ')
	# shellcheck disable=SC2086
	out=$(cb $words --help 2>&1) || bad="$bad $p(rc)"
	case $out in "usage: cbuild "*) ;; *) bad="$bad $p(usage)" ;; esac
	printf '%s\n' "$out" | grep -q -- '--help' || bad="$bad $p(options)"
	cb __doc man "$p" | grep -q '^\.SH OPTIONS' || bad="$bad $p(man)"
done
is "$bad" "" "every verb and subcommand: --help exits 0 with its usage and options, and a man page"

# run --help: every option with a line of meaning, as docker's
out=$(cb run --help)
for o in -d,\ --detach --rm --name -e,\ --env -v,\ --volume -p,\ --publish --network --entrypoint; do
	like "$out" "^ +$o( [^ ]+)?( +[a-z]|$)" "run --help: $o and its meaning"
done
unlike "$out" "--net " "run --help: the hidden alias --net is not listed"
is "$(cb run --net=bogus 2>&1 | grep -c 'unknown flag')" 0 "run: --net is still parsed"

# the parser: mixed operands, --flag=false, -- and bundles
cb import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
is "$(cb run --rm=false --name m1 busybox sh -c 'echo hi')" hi "run --rm=false"
like "$(cb ps -a --format '{{.Names}}')" "^m1$" "--rm=false kept the container"
cb rm m1 -f >/dev/null; ok $? "rm: an option after the operand (docker's pflag)"
is "$(cb ps -aq | wc -l)" 0 "and it is gone"
is "$(cb run --rm -e A=1 busybox sh -c 'echo $A' -- 2>&1)" 1 "run: what follows the image is the command's"

# exit codes: 125 own (run) and usage (run, exec), 126/127 for the command
cb run --bogus busybox true 2>/dev/null; is $? 125 "run: unknown flag: 125"
cb run --rm busybox nosuchcmd 2>/dev/null; is $? 127 "run: command not found: 127"
cb run --rm busybox /etc 2>/dev/null; is $? 126 "run: not executable: 126"
cb images --bogus 2>/dev/null; is $? 125 "images: unknown flag: 125 (docker's flag parser)"
err=$(cb images --bogus 2>&1)
like "$err" "^cbuild: error: unknown flag: --bogus$" "the error names the flag"
like "$err" "See 'cbuild images --help'" "and says where the help is"
err=$(cb image ls --bogus 2>&1)
like "$err" "See 'cbuild image ls --help'" "a subcommand's own help is named"

# management forms
is "$(cb image ls --format '{{.Repository}}:{{.Tag}}')" "busybox:latest" "image ls"
is "$(cb image inspect -f '{{index .RepoTags 0}} {{json .Config.Cmd}}' busybox)" 'busybox:latest ["sh"]' \
	"image inspect --format"
cb image >/dev/null; ok $? "image alone lists its commands (exit 0)"

# completions
bash_c=$T/cbuild.bash
cb __doc bash >"$bash_c"
out=$(bash -c ". '$bash_c'; COMP_WORDS=(cbuild ru); COMP_CWORD=1; _cbuild; echo \${COMPREPLY[*]}")
is "$out" run "bash completes a verb"
out=$(bash -c ". '$bash_c'; COMP_WORDS=(cbuild run --de); COMP_CWORD=2; _cbuild; echo \${COMPREPLY[*]}")
is "$out" --detach "bash completes a verb's option"
out=$(bash -c ". '$bash_c'; COMP_WORDS=(cbuild network cr); COMP_CWORD=2; _cbuild; echo \${COMPREPLY[*]}")
is "$out" create "bash completes a subcommand"
if command -v zsh >/dev/null; then
	cb __doc zsh >"$T/_cbuild"
	zsh -n "$T/_cbuild"; ok $? "the zsh completion parses"
fi

# make install writes them
if [ -f "$TOP/Makefile" ] && [ "$CBUILD" = "$TOP/build/cbuild" ]; then
	make -s -C "$TOP" install DESTDIR="$T/inst" PREFIX=/usr >/dev/null 2>&1; ok $? "make install"
	[ -s "$T/inst/usr/share/man/man1/cbuild-run.1" ] && [ -s "$T/inst/usr/share/bash-completion/completions/cbuild" ] &&
		[ -s "$T/inst/usr/share/zsh/site-functions/_cbuild" ]
	ok $? "make install writes man pages and completions"
fi
done_testing
