/*
 * tests/unit/test_parser_plan.c - df_plan_build, table driven: each case is
 * a Dockerfile with build args / target / platform and either substrings
 * its JSON plan must (and must not) contain, or the exact first line of
 * the error. Then the base-image resolver (df_plan_opts_t.base), and the
 * golden corpus in testdata/dockerfiles{,-negative}/ (UPDATE_GOLDEN=1
 * rewrites plan.json and error files).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "common/fs.h"
#include "common/util.h"
#include "parser/plan.h"

typedef struct pcase {
	const char *name;
	const char *df;
	const char *args;   /* "K=V|K2=V2" */
	const char *target;
	const char *platform;
	const char *want[8];
	const char *nope[4];
	const char *err;    /* first line of the error */
	const char *warn;   /* substring of a warning */
} pcase_t;

static const pcase_t cases[] = {
	/* FROM */
	{"from scratch", "FROM scratch\nCOPY a /\n", .want = {"\"base\": \"scratch\""}},
	{"from image", "FROM alpine:3.20\n", .want = {"\"base_image\": \"alpine:3.20\""}},
	{"from digest", "FROM alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	 .want = {"\"base_image\": \"alpine@sha256:0123"}},
	{"from global arg", "ARG V=3.20\nFROM alpine:$V\n", .want = {"\"base_image\": \"alpine:3.20\""}},
	{"from global arg braces", "ARG REG=localhost:5000\nARG V=1\nFROM ${REG}/app:${V}\n",
	 .want = {"\"base_image\": \"localhost:5000/app:1\""}},
	{"from build arg overrides", "ARG V=3.20\nFROM alpine:$V\n", "V=3.19",
	 .want = {"\"base_image\": \"alpine:3.19\""}},
	{"from global arg from global arg", "ARG A=3\nARG B=alpine:$A\nFROM $B\n",
	 .want = {"\"base_image\": \"alpine:3\""}},
	{"from undeclared arg", "FROM alpine:$V\n", .err =
	 "Dockerfile:1:6: ARG \"V\" is used in FROM but not declared before the first FROM"},
	{"from undeclared arg even with build arg", "FROM alpine:$V\n", "V=1", .err =
	 "Dockerfile:1:6: ARG \"V\" is used in FROM but not declared before the first FROM"},
	{"from undeclared arg with default", "FROM alpine:${V:-latest}\n",
	 .want = {"\"base_image\": \"alpine:latest\""}},
	{"from arg declared after first from", "FROM a\nARG V=1\nFROM b:$V\n", .err =
	 "Dockerfile:3:6: ARG \"V\" is used in FROM but not declared before the first FROM"},
	{"from stage", "FROM alpine AS base\nFROM base\nRUN x\n",
	 .want = {"\"base_stage\": 0", "\"deps\": [0]"}},
	{"from stage case", "FROM alpine AS Base\nFROM BASE\n",
	 .want = {"\"name\": \"base\"", "\"base_stage\": 0"}},
	{"from later name is an image", "FROM later AS first\nFROM alpine AS later\n", NULL, "first",
	 .want = {"\"base_image\": \"later\""}, .nope = {"\"index\": 1"}},
	{"from stage via arg", "ARG B=base\nFROM alpine AS base\nFROM $B\n",
	 .want = {"\"base_stage\": 0"}},
	{"from platform", "FROM --platform=$BUILDPLATFORM golang AS b\n",
	 .want = {"\"platform\": \"linux/amd64\""}},
	{"from platform target", "FROM --platform=$TARGETPLATFORM a\n", NULL, NULL, "linux/arm64/v8",
	 .want = {"\"platform\": \"linux/arm64/v8\"", "\"TARGETVARIANT=v8\"", "\"TARGETARCH=arm64\""}},
	{"from declared unset arg", "ARG V\nFROM alpine:$V\n",
	 .err = "Dockerfile:2:6: invalid reference format: \"alpine:\" is not an image name (from "
		"\"alpine:$V\")"},
	{"from declared unset arg default", "ARG V\nFROM alpine:${V:-3}\n", .want = {"\"base_image\": \"alpine:3\""}},
	{"from uppercase image", "FROM Alpine\n",
	 .err = "Dockerfile:1:6: invalid reference format: \"Alpine\" is not an image name (from \"Alpine\")"},
	{"from registry port", "FROM localhost:5000/team/app:1.0\n",
	 .want = {"\"base_image\": \"localhost:5000/team/app:1.0\""}},
	{"from registry host digest", "FROM ghcr.io/o/img@sha256:abcdef0123\n",
	 .want = {"\"base_image\": \"ghcr.io/o/img@sha256:abcdef0123\""}},
	{"from bad tag", "FROM alpine:-x\n",
	 .err = "Dockerfile:1:6: invalid reference format: \"alpine:-x\" is not an image name (from "
		"\"alpine:-x\")"},
	{"from separators", "FROM my_org/my-app.v2__x:latest\n", .want = {"\"base_image\": \"my_org/my-app.v2__x:latest\""}},
	{"from two args", "FROM a b\n", .err = "Dockerfile:1:1: FROM requires either one or three arguments"},
	{"from no args", "FROM\n", .err = "Dockerfile:1:1: FROM requires either one or three arguments"},
	{"from as missing name", "FROM a AS\n",
	 .err = "Dockerfile:1:1: FROM requires either one or three arguments"},
	{"from not as", "FROM a FOR b\n", .err = "Dockerfile:1:1: FROM requires either one or three "
						  "arguments (expected \"AS\", got \"FOR\")"},
	{"from bad stage name", "FROM a AS 1x\n", .err = "Dockerfile:1:1: invalid name for build stage: "
							 "\"1x\", name can't start with a number or "
							 "contain symbols"},
	{"from bad stage name symbol", "FROM a AS b$c\n", .err = "Dockerfile:1:1: invalid name for build "
								 "stage: \"b$c\", name can't start with "
								 "a number or contain symbols"},
	{"from duplicate name", "FROM a AS x\nFROM b AS X\n",
	 .err = "Dockerfile:2:1: duplicate stage name \"x\""},
	{"from blank", "ARG X=\nFROM $X\n", .err = "Dockerfile:2:6: base name ($X) should not be blank"},
	{"from bad flag", "FROM --plat=x a\n",
	 .err = "Dockerfile:1:6: unknown flag --plat for FROM (did you mean --platform?)"},
	{"from flag without value", "FROM --platform a\n",
	 .err = "Dockerfile:1:6: missing a value on flag: --platform"},
	{"instruction before from", "RUN x\nFROM a\n",
	 .err = "Dockerfile:1:1: RUN before the first FROM: only ARG may come before FROM (no build "
		"stage in the current context)"},
	{"no from", "ARG A=1\n",
	 .err = "Dockerfile:1: no FROM instruction: a Dockerfile needs at least one build stage"},
	{"global arg flag", "ARG --x A\nFROM a\n", .err = "Dockerfile:1:5: unknown flag --x for ARG"},
	/* ARG / ENV */
	{"stage arg in env", "FROM a\nARG V=1\nENV X=$V\n", .want = {"{\"key\": \"X\", \"value\": \"1\"}"}},
	{"build arg overrides stage default", "FROM a\nARG V=1\nENV X=$V\n", "V=9",
	 .want = {"{\"key\": \"X\", \"value\": \"9\"}", "{\"key\": \"V\", \"value\": \"9\"}"}},
	{"global not visible in stage", "ARG V=1\nFROM a\nENV X=${V:-unset}\n",
	 .want = {"{\"key\": \"X\", \"value\": \"unset\"}"}},
	{"redeclare brings global", "ARG V=1\nFROM a\nARG V\nENV X=$V\n",
	 .want = {"{\"key\": \"X\", \"value\": \"1\"}"}},
	{"redeclare with build arg", "ARG V=1\nFROM a\nARG V\nENV X=$V\n", "V=2",
	 .want = {"{\"key\": \"X\", \"value\": \"2\"}"}},
	{"stage default beats global", "ARG V=1\nFROM a\nARG V=3\nENV X=$V\n",
	 .want = {"{\"key\": \"X\", \"value\": \"3\"}"}},
	{"arg without value unset", "FROM a\nARG V\nENV X=[$V]\n",
	 .want = {"{\"key\": \"V\"}", "{\"key\": \"X\", \"value\": \"[]\"}"}},
	{"env beats arg", "FROM a\nARG A=arg\nENV A=env\nENV B=$A\n",
	 .want = {"{\"key\": \"B\", \"value\": \"env\"}"}},
	{"env before arg still wins", "FROM a\nENV A=env\nARG A=arg\nENV B=$A\n",
	 .want = {"{\"key\": \"B\", \"value\": \"env\"}"}},
	{"env same instruction old value", "FROM a\nENV A=1\nENV A=2 B=$A\n",
	 .want = {"{\"key\": \"B\", \"value\": \"1\"}"}},
	{"env quotes", "FROM a\nENV a=\"b c\" d='$x' e=f\\ g h=\"$a\"\n",
	 .want = {"{\"key\": \"a\", \"value\": \"b c\"}", "{\"key\": \"d\", \"value\": \"$x\"}",
		  "{\"key\": \"e\", \"value\": \"f g\"}", "{\"key\": \"h\", \"value\": \"\"}"}},
	{"env legacy", "FROM a\nENV X 1\nENV Y $X 2\n", .want = {"{\"key\": \"Y\", \"value\": \"1 2\"}"}},
	{"env legacy quotes", "FROM a\nENV Y \"a b\" c\n", .want = {"{\"key\": \"Y\", \"value\": \"a b c\"}"}},
	{"env a=b c=d", "FROM a\nENV a=b c=d\n",
	 .want = {"{\"key\": \"a\", \"value\": \"b\"}", "{\"key\": \"c\", \"value\": \"d\"}"}},
	{"env path append", "FROM a\nENV PATH=/opt/bin:$PATH\n",
	 .want = {"{\"key\": \"PATH\", \"value\": \"/opt/bin:\"}"}},
	{"env blank name", "FROM a\nENV =x\n", .err = "Dockerfile:2:1: ENV names can not be blank"},
	{"env no args", "FROM a\nENV\n", .err = "Dockerfile:2:1: ENV requires at least one argument"},
	{"arg per stage", "FROM a AS one\nARG V=1\nFROM a\nENV X=${V:-none}\n",
	 .want = {"{\"key\": \"X\", \"value\": \"none\"}"}},
	{"env inherited by child stage", "FROM a AS one\nENV V=1\nFROM one\nENV X=$V\n",
	 .want = {"{\"key\": \"X\", \"value\": \"1\"}"}},
	{"arg not inherited by child stage", "FROM a AS one\nARG V=1\nFROM one\nENV X=${V:-no}\n",
	 .want = {"{\"key\": \"X\", \"value\": \"no\"}"}},
	{"predefined in stage", "FROM a\nARG TARGETARCH\nARG BUILDOS\nENV A=$TARGETARCH-$BUILDOS\n",
	 .want = {"{\"key\": \"A\", \"value\": \"amd64-linux\"}"}},
	{"predefined platform", "FROM a\nARG TARGETPLATFORM\nARG TARGETVARIANT\nENV A=$TARGETPLATFORM/$TARGETVARIANT\n",
	 NULL, NULL, "linux/arm/v7", .want = {"{\"key\": \"A\", \"value\": \"linux/arm/v7/v7\"}"}},
	{"predefined needs declaring", "FROM a\nENV A=x${TARGETARCH}x\n",
	 .want = {"{\"key\": \"A\", \"value\": \"xx\"}"}},
	{"proxy arg in run env", "FROM a\nRUN x\n", "HTTP_PROXY=http://p:3128|no_proxy=local",
	 .want = {"\"args_env\": [\"HTTP_PROXY=http://p:3128\", \"no_proxy=local\"]"}},
	{"proxy arg not reported unused", "FROM a\n", "HTTPS_PROXY=x|BUILDKIT_INLINE_CACHE=1",
	 .nope = {"not consumed"}},
	{"unused build arg", "FROM a\n", "FOO=1|BAR=2",
	 .warn = "one or more build-args were not consumed: [FOO BAR]"},
	{"build arg used only in unbuilt stage", "FROM a AS x\nARG FOO\nFROM b AS y\n", "FOO=1", "y",
	 .warn = "one or more build-args were not consumed: [FOO]"},
	{"build arg used by global arg", "ARG FOO\nFROM a\n", "FOO=1", .nope = {"not consumed"}},
	{"run env excludes shadowed arg", "FROM a\nARG A=1\nARG B=2\nENV A=3\nRUN x\n",
	 .want = {"\"env\": [\"A=3\"]", "\"args_env\": [\"B=2\"]"}},
	{"arg default uses earlier arg", "FROM a\nARG A=x\nARG B=${A}y\nENV C=$B\n",
	 .want = {"{\"key\": \"C\", \"value\": \"xy\"}"}},
	{"arg many", "FROM a\nARG A=1 B C=3\nENV X=$A$B$C\n",
	 .want = {"{\"key\": \"X\", \"value\": \"13\"}"}},
	{"arg quoted default", "FROM a\nARG A=\"x y\"\nENV X=$A\n",
	 .want = {"{\"key\": \"X\", \"value\": \"x y\"}"}},
	{"arg no args", "FROM a\nARG\n", .err = "Dockerfile:2:1: ARG requires at least one argument"},
	{"undefined var empty", "FROM a\nWORKDIR /$NOPE/x\n", .want = {"\"value\": \"/x\""}},
	{"required var error", "FROM a\nENV A=${X:?need_X}\n", .err = "Dockerfile:2:1: X: need_X"},
	{"space inside braces splits words", "FROM a\nENV A=${X:?need X}\n",
	 .err = "Dockerfile:2:5: syntax error - can't find = in \"X}\"; must be of the form: name=value"},
	{"required var from build arg", "FROM a\nARG X\nENV A=${X:?need}\n", "X=1",
	 .want = {"{\"key\": \"A\", \"value\": \"1\"}"}},
	{"expansion error in unneeded stage", "FROM a AS x\nENV A=${X:?need}\nFROM b\n",
	 .want = {"\"base_image\": \"b\""}},
	{"syntax error in unneeded stage", "FROM a AS x\nCOPY --bogus a b\nFROM b\n",
	 .err = "Dockerfile:2:6: unknown flag --bogus for COPY"},
	{"bad substitution", "FROM a\nENV A=${}\n", .err = "Dockerfile:2:1: syntax error: bad substitution"},
	{"backtick escape expansion", "# escape=`\nFROM a\nENV A=C:\\x`$HOME B=a` b\n",
	 .want = {"{\"key\": \"A\", \"value\": \"C:\\\\x$HOME\"}", "{\"key\": \"B\", \"value\": \"a b\"}"}},
	/* WORKDIR */
	{"workdir relative", "FROM a\nWORKDIR /app\nWORKDIR src\nRUN x\n",
	 .want = {"\"workdir\": \"/app/src\""}},
	{"workdir clean", "FROM a\nWORKDIR a/../b/./c/\n", .want = {"\"value\": \"/b/c\""}},
	{"workdir env", "FROM a\nENV D=/srv\nWORKDIR $D/app\n", .want = {"\"value\": \"/srv/app\""}},
	{"workdir inherited", "FROM a AS b\nWORKDIR /x\nFROM b\nRUN y\n",
	 .want = {"\"workdir\": \"/x\""}},
	{"workdir no args", "FROM a\nWORKDIR\n", .err = "Dockerfile:2:1: WORKDIR requires exactly one argument"},
	{"workdir default", "FROM a\nRUN x\n", .want = {"\"workdir\": \"/\""}},
	/* COPY / ADD */
	{"copy expand", "FROM a\nARG D=/dst\nARG S=src\nCOPY $S/*.c ${D}/\n",
	 .want = {"\"sources\": [\"src/*.c\"]", "\"dest\": \"/dst/\""}},
	{"copy from stage", "FROM a AS build\nFROM b\nCOPY --from=build /out /app\n",
	 .want = {"\"from\": \"build\"", "\"from_stage\": 0", "\"deps\": [0]"}},
	{"copy from image", "FROM b\nCOPY --from=nginx:1.25 /etc/nginx /n\n",
	 .want = {"\"from\": \"nginx:1.25\""}, .nope = {"from_stage"}},
	{"copy from arg", "FROM a AS build\nFROM b\nARG SRC=build\nCOPY --from=$SRC /o /o\n",
	 .want = {"\"from_stage\": 0"}},
	{"copy from itself", "FROM a AS x\nCOPY --from=x a b\n",
	 .err = "Dockerfile:2:6: COPY --from=x refers to the stage it is in"},
	{"copy from near miss", "FROM a AS builder\nFROM b\nCOPY --from=Builderr x y\n",
	 .err = "Dockerfile:3:6: COPY --from=Builderr: no stage or image named \"Builderr\" (did you "
		"mean \"builder\"?)"},
	{"copy from invalid", "FROM a\nCOPY --from=\"a b\" x y\n",
	 .err = "Dockerfile:2:6: COPY --from=a b: no stage or image named \"a b\""},
	{"copy from index", "FROM a\nFROM b\nCOPY --from=0 x y\n", .want = {"\"from_stage\": 0"}},
	{"copy from index out of range", "FROM a\nCOPY --from=5 x y\n",
	 .err = "Dockerfile:2:6: invalid stage index 5 in --from"},
	{"copy from empty", "FROM a\nCOPY --from= x y\n",
	 .err = "Dockerfile:2:6: COPY --from requires a stage name or image"},
	{"copy one arg", "FROM a\nCOPY x\n",
	 .err = "Dockerfile:2:1: COPY requires at least two arguments, but only one was provided. "
		"Destination could not be determined"},
	{"copy chmod", "FROM a\nCOPY --chmod=0755 --chown=$U:1 x y\n", "U=app",
	 .want = {"\"chmod\": \"0755\""}},
	{"copy chown expand", "FROM a\nARG U=app\nCOPY --chown=$U:$U x y\n", .want = {"\"chown\": \"app:app\""}},
	{"copy chmod symbolic", "FROM a\nCOPY --chmod=u+x,go-w x y\n", .want = {"\"chmod\": \"u+x,go-w\""}},
	{"copy chmod bad", "FROM a\nCOPY --chmod=999 x y\n",
	 .err = "Dockerfile:2:6: invalid chmod parameter \"999\""},
	{"copy link parents exclude", "FROM a\nCOPY --link --parents --exclude=*.md --exclude=tmp x/ y/\n",
	 .want = {"\"link\": true", "\"parents\": true", "\"exclude\": [\"*.md\", \"tmp\"]"}},
	{"copy link false", "FROM a\nCOPY --link=false x y\n", .nope = {"\"link\""}},
	{"copy link bad bool", "FROM a\nCOPY --link=maybe x y\n",
	 .err = "Dockerfile:2:6: expecting boolean value for flag --link, not: maybe"},
	{"copy duplicate flag", "FROM a\nCOPY --chown=1 --chown=2 x y\n",
	 .err = "Dockerfile:2:16: duplicate flag specified: --chown"},
	{"copy unknown flag", "FROM a\nCOPY --chmown=1 x y\n",
	 .err = "Dockerfile:2:6: unknown flag --chmown for COPY (did you mean --chown?)"},
	{"copy json", "FROM a\nCOPY [\"a b\", \"$D/c\"]\n", .want = {"\"sources\": [\"a b\"]", "\"dest\": \"/c\""}},
	{"copy quoted words", "FROM a\nCOPY \"a\" b\n", .want = {"\"sources\": [\"a\"]"}},
	{"copy heredoc expand", "FROM a\nARG N=x\nCOPY <<EOF /f\nhi $N \"q\"\nEOF\n",
	 .want = {"\"content\": \"hi x \\\"q\\\"\\n\"", "\"name\": \"EOF\"", "\"sources\": []"}},
	{"copy heredoc quoted", "FROM a\nARG N=x\nCOPY <<'EOF' /f\nhi $N\nEOF\n",
	 .want = {"\"content\": \"hi $N\\n\""}},
	{"copy heredoc and file", "FROM a\nCOPY <<A x /d/\nbody\nA\n",
	 .want = {"\"sources\": [\"x\"]", "\"name\": \"A\""}},
	{"add unpack default", "FROM a\nADD x.tar.gz /\n", .want = {"\"unpack\": true"}},
	{"add checksum", "FROM a\nADD --checksum=sha256:abc https://x/y /y\n",
	 .want = {"\"checksum\": \"sha256:abc\""}},
	{"add checksum bad", "FROM a\nADD --checksum=abc https://x/y /y\n",
	 .err = "Dockerfile:2:5: invalid checksum digest format \"abc\""},
	{"add checksum many", "FROM a\nADD --checksum=sha256:a x y /d/\n",
	 .err = "Dockerfile:2:1: checksum can't be specified for multiple sources"},
	{"add keep git dir", "FROM a\nADD --keep-git-dir=true https://g/r.git /src\n",
	 .want = {"\"keep_git_dir\": true"}},
	{"add from rejected", "FROM a\nADD --from=b x y\n", .err = "Dockerfile:2:5: unknown flag --from for ADD"},
	/* RUN */
	{"run shell", "FROM a\nRUN echo hi\n", .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"echo hi\"]"}},
	{"run not expanded", "FROM a\nARG V=1\nRUN echo $V\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"echo $V\"]", "\"args_env\": [\"V=1\"]"}},
	{"run exec", "FROM a\nRUN [\"echo\", \"$V\"]\n",
	 .want = {"\"argv\": [\"echo\", \"$V\"]", "\"exec_form\": true"}},
	{"run shell changed", "FROM a\nSHELL [\"bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN x\n",
	 .want = {"\"argv\": [\"bash\", \"-eo\", \"pipefail\", \"-c\", \"x\"]"}},
	{"run mount cache", "FROM a\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
	 .want = {"\"type\": \"cache\"", "\"target\": \"/root/.cache\"", "\"id\": \"/root/.cache\"",
		  "\"sharing\": \"shared\"", "\"mode\": \"0755\""},
	 .nope = {"\"readonly\""}},
	{"run mount cache opts", "FROM a\nRUN --mount=type=cache,id=npm,target=/n,sharing=locked,uid=1000,mode=0700 x\n",
	 .want = {"\"id\": \"npm\"", "\"sharing\": \"locked\"", "\"uid\": 1000", "\"mode\": \"0700\""}},
	{"run mount secret", "FROM a\nRUN --mount=type=secret,id=tok,required x\n",
	 .want = {"\"type\": \"secret\"", "\"target\": \"/run/secrets/tok\"", "\"mode\": \"0400\"",
		  "\"readonly\": true", "\"required\": true"}},
	{"run mount secret target", "FROM a\nRUN --mount=type=secret,target=/etc/key x\n",
	 .want = {"\"id\": \"key\"", "\"target\": \"/etc/key\""}},
	{"run mount secret env", "FROM a\nRUN --mount=type=secret,id=t,env=TOKEN x\n",
	 .want = {"\"env\": \"TOKEN\""}},
	{"run mount ssh", "FROM a\nRUN --mount=type=ssh --mount=type=ssh,id=gh x\n",
	 .want = {"\"target\": \"/run/buildkit/ssh_agent.0\"", "\"id\": \"default\"",
		  "\"target\": \"/run/buildkit/ssh_agent.1\"", "\"id\": \"gh\""}},
	{"run mount bind from", "FROM a AS builder\nFROM b\nRUN --mount=from=builder,source=/out,target=/in x\n",
	 .want = {"\"type\": \"bind\"", "\"from_stage\": 0", "\"source\": \"/out\"", "\"readonly\": true",
		  "\"deps\": [0]"}},
	{"run mount bind rw", "FROM a\nRUN --mount=type=bind,target=/src,rw x\n",
	 .want = {"\"target\": \"/src\""}, .nope = {"\"readonly\""}},
	{"run mount relative target", "FROM a\nWORKDIR /w\nRUN --mount=type=bind,target=src x\n",
	 .want = {"\"target\": \"/w/src\""}},
	{"run mount tmpfs", "FROM a\nRUN --mount=type=tmpfs,target=/t,size=64m x\n",
	 .want = {"\"type\": \"tmpfs\"", "\"size\": 67108864"}},
	{"run mount expand", "FROM a\nARG C=/c\nRUN --mount=type=cache,target=$C x\n",
	 .want = {"\"target\": \"/c\""}},
	{"run mount csv quotes", "FROM a\nRUN --mount='type=bind,\"target=/a,b\"' x\n",
	 .want = {"\"target\": \"/a,b\""}},
	{"run mount bad type", "FROM a\nRUN --mount=type=cach,target=/x y\n",
	 .err = "Dockerfile:2:5: unsupported mount type \"cach\""},
	{"run mount bad key", "FROM a\nRUN --mount=type=cache,targt=/x y\n",
	 .err = "Dockerfile:2:5: unexpected key 'targt' in 'targt=/x' (did you mean target?)"},
	{"run mount uid on bind", "FROM a\nRUN --mount=type=bind,target=/x,uid=1 y\n",
	 .err = "Dockerfile:2:5: uid not allowed for \"bind\" type mounts"},
	{"run mount bad mode", "FROM a\nRUN --mount=type=cache,target=/x,mode=9 y\n",
	 .err = "Dockerfile:2:5: invalid value 9 for mode"},
	/* heredoc corners, as BuildKit (issue 22, bug 7) */
	{"run heredoc blanks after marker", "FROM a\nRUN <<  EOF\necho hi\nEOF\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"echo hi\\n\"]"}},
	{"run heredoc quoted name with blank", "FROM a\nRUN <<'one two'\necho bar > /x\none two\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"echo bar > /x\\n\"]"}},
	{"run heredoc with program", "FROM a\nRUN <<EOF python3\nprint(1)\nEOF\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"<<EOF python3\\nprint(1)\\nEOF\"]"}},
	{"copy heredoc destination", "FROM a\nCOPY /foo <<EOF\nx\nEOF\n",
	 .err = "Dockerfile:2:1: COPY cannot accept a heredoc as a destination"},
	{"add heredoc destination", "FROM a\nADD a <<-EOF\nEOF\n",
	 .err = "Dockerfile:2:1: ADD cannot accept a heredoc as a destination"},
	{"copy quoted heredoc is a name", "FROM a\nCOPY <<EOF \"<<X\"\nx\nEOF\n",
	 .want = {"\"dest\": \"<<X\""}},
	/* no target: BuildKit mounts at the working directory (issue 22, bug 6) */
	{"run mount ro no target", "FROM a\nWORKDIR /src\nRUN --mount=ro make\n",
	 .want = {"\"type\": \"bind\"", "\"target\": \"/src\"", "\"readonly\": true"}},
	{"run mount bind no target", "FROM a\nWORKDIR /w\nRUN --mount=type=bind,source=x go build\n",
	 .want = {"\"target\": \"/w\"", "\"source\": \"x\""}},
	{"run mount cache no target", "FROM a\nWORKDIR /w\nRUN --mount=type=cache y\n",
	 .want = {"\"target\": \"/w\"", "\"id\": \".\""}},
	{"run mount no target at root", "FROM scratch\nRUN --mount=type=bind y\n",
	 .err = "Dockerfile:2:5: invalid mount target \"/\""},
	{"run mount root target", "FROM a\nRUN --mount=type=cache,target=/ y\n",
	 .err = "Dockerfile:2:5: invalid mount target \"/\""},
	{"run mount no target, base workdir unknown", "FROM a\nRUN --mount=ro y\n",
	 .want = {"\"target\": \"/\""}},
	{"run mount sharing on bind", "FROM a\nRUN --mount=type=bind,target=/x,sharing=locked y\n",
	 .err = "Dockerfile:2:5: invalid cache sharing set for bind mount"},
	{"run mount secret from", "FROM a\nRUN --mount=type=secret,id=a,from=b y\n",
	 .err = "Dockerfile:2:5: secret mount should not have a from"},
	{"run mount size on cache", "FROM a\nRUN --mount=type=cache,target=/x,size=1 y\n",
	 .err = "Dockerfile:2:5: unexpected key 'size' for mount type 'cache'"},
	{"run mount field without value", "FROM a\nRUN --mount=type=cache,target=/x,bogus y\n",
	 .err = "Dockerfile:2:5: invalid field 'bogus' must be a key=value pair"},
	{"run mount from itself", "FROM a AS s\nRUN --mount=from=s,target=/x y\n",
	 .err = "Dockerfile:2:5: RUN --from=s refers to the stage it is in"},
	{"run network", "FROM a\nRUN --network=none x\nRUN --network=host y\n",
	 .want = {"\"network\": \"none\"", "\"network\": \"host\""}},
	{"run network bad", "FROM a\nRUN --network=bridge x\n",
	 .err = "Dockerfile:2:5: unsupported network mode \"bridge\""},
	{"run security", "FROM a\nRUN --security=insecure x\nRUN --security=sandbox y\n",
	 .want = {"\"insecure\": true"}},
	{"run security bad", "FROM a\nRUN --security=loose x\n",
	 .err = "Dockerfile:2:5: unsupported security mode \"loose\""},
	{"run unknown flag", "FROM a\nRUN --mnt=x y\n",
	 .err = "Dockerfile:2:5: unknown flag --mnt for RUN (did you mean --mount?)"},
	{"run no args", "FROM a\nRUN\n", .err = "Dockerfile:2:1: RUN requires at least one argument"},
	{"run heredoc shebang", "FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n",
	 .want = {"\"path\": \"/dev/pipes/EOF\"", "\"mode\": \"0755\"",
		  "\"argv\": [\"/bin/sh\", \"-c\", \"/dev/pipes/EOF\"]"}},
	{"run heredoc script", "FROM a\nRUN <<EOF\nset -e\necho $HOME\nEOF\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"set -e\\necho $HOME\\n\"]"}},
	{"run heredoc with command", "FROM a\nRUN python3 <<EOF\nprint(1)\nEOF\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"python3 <<EOF\\nprint(1)\\nEOF\"]"}},
	{"run heredoc chomp", "FROM a\nRUN <<-EOF\n\techo a\n\tEOF\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"echo a\\n\"]"}},
	{"run two heredocs", "FROM a\nRUN <<A bash && <<B sh\necho a\nA\necho b\nB\n",
	 .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"<<A bash && <<B sh\\necho a\\nA\\necho b\\nB\"]"}},
	/* metadata */
	{"expose", "FROM a\nEXPOSE 80 443/udp 8000-8002\n",
	 .want = {"\"list\": [\"80/tcp\", \"443/udp\", \"8000/tcp\", \"8001/tcp\", \"8002/tcp\"]"}},
	{"expose var", "FROM a\nARG P=\"8080 9090/UDP\"\nEXPOSE $P\n",
	 .want = {"\"list\": [\"8080/tcp\", \"9090/udp\"]"}},
	{"expose dup", "FROM a\nEXPOSE 80 80/tcp\n", .want = {"\"list\": [\"80/tcp\"]"}},
	{"expose bad", "FROM a\nEXPOSE abc\n", .err = "Dockerfile:2:1: invalid containerPort: abc"},
	{"expose bad range", "FROM a\nEXPOSE 90-80\n", .err = "Dockerfile:2:1: invalid containerPort: 90-80"},
	{"expose bad proto", "FROM a\nEXPOSE 80/http\n", .err = "Dockerfile:2:1: invalid proto: http"},
	{"expose none", "FROM a\nEXPOSE\n", .err = "Dockerfile:2:1: EXPOSE requires at least one argument"},
	{"volume json", "FROM a\nVOLUME [\"/data\", \"/logs\"]\n", .want = {"\"list\": [\"/data\", \"/logs\"]"}},
	{"volume words var", "FROM a\nENV D=/d\nVOLUME $D /e\n", .want = {"\"list\": [\"/d\", \"/e\"]"}},
	{"volume empty", "FROM a\nVOLUME [\"\"]\n",
	 .err = "Dockerfile:2:1: VOLUME specified can not be an empty string"},
	{"user", "FROM a\nARG U=app\nUSER $U:$U\n", .want = {"\"value\": \"app:app\""}},
	{"user none", "FROM a\nUSER\n", .err = "Dockerfile:2:1: USER requires exactly one argument"},
	{"stopsignal", "FROM a\nSTOPSIGNAL SIGKILL\n", .want = {"\"value\": \"SIGKILL\""}},
	{"stopsignal number", "FROM a\nSTOPSIGNAL 9\n", .want = {"\"value\": \"9\""}},
	{"stopsignal rtmin", "FROM a\nSTOPSIGNAL SIGRTMIN+3\n", .want = {"\"value\": \"SIGRTMIN+3\""}},
	{"stopsignal var", "FROM a\nARG S=TERM\nSTOPSIGNAL $S\n", .want = {"\"value\": \"TERM\""}},
	{"stopsignal bad", "FROM a\nSTOPSIGNAL SIGFOO\n", .err = "Dockerfile:2:1: invalid signal: SIGFOO"},
	{"cmd shell", "FROM a\nCMD echo $HOME\n", .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"echo $HOME\"]"}},
	{"cmd exec", "FROM a\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
	 .want = {"\"argv\": [\"nginx\", \"-g\", \"daemon off;\"]", "\"exec_form\": true"}},
	{"cmd empty", "FROM a\nCMD []\n", .want = {"\"argv\": []"}},
	{"entrypoint", "FROM a\nENTRYPOINT [\"/init\"]\nCMD [\"run\"]\n",
	 .want = {"\"kind\": \"ENTRYPOINT\"", "\"argv\": [\"/init\"]"}},
	{"cmd json fallback", "FROM a\nCMD ['a']\n", .want = {"\"argv\": [\"/bin/sh\", \"-c\", \"['a']\"]"}},
	{"shell not json", "FROM a\nSHELL bash -c\n",
	 .err = "Dockerfile:2:1: SHELL requires the arguments to be in JSON form"},
	{"shell empty", "FROM a\nSHELL []\n", .err = "Dockerfile:2:1: SHELL requires at least one argument"},
	{"healthcheck full", "FROM a\nHEALTHCHECK --interval=30s --timeout=3s --start-period=1m "
			     "--start-interval=500ms --retries=3 CMD curl -f http://localhost/\n",
	 .want = {"\"test\": [\"CMD-SHELL\", \"curl -f http://localhost/\"]", "\"interval_ns\": 30000000000",
		  "\"timeout_ns\": 3000000000", "\"start_period_ns\": 60000000000",
		  "\"start_interval_ns\": 500000000", "\"retries\": 3"}},
	{"healthcheck exec", "FROM a\nHEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n",
	 .want = {"\"test\": [\"CMD\", \"/bin/check\", \"-q\"]"}},
	{"healthcheck none", "FROM a\nHEALTHCHECK NONE\n", .want = {"\"test\": [\"NONE\"]"}},
	{"healthcheck 1m30s", "FROM a\nHEALTHCHECK --interval=1m30s CMD x\n",
	 .want = {"\"interval_ns\": 90000000000"}},
	{"healthcheck none args", "FROM a\nHEALTHCHECK NONE x\n",
	 .err = "Dockerfile:2:1: HEALTHCHECK NONE takes no arguments"},
	{"healthcheck bad type", "FROM a\nHEALTHCHECK RUN x\n",
	 .err = "Dockerfile:2:1: unknown type \"RUN\" in HEALTHCHECK (try CMD)"},
	{"healthcheck missing cmd", "FROM a\nHEALTHCHECK CMD\n",
	 .err = "Dockerfile:2:1: missing command after HEALTHCHECK CMD"},
	{"healthcheck bad duration", "FROM a\nHEALTHCHECK --interval=5 CMD x\n",
	 .err = "Dockerfile:2:13: invalid duration \"5\" for --interval"},
	{"healthcheck tiny", "FROM a\nHEALTHCHECK --timeout=10us CMD x\n",
	 .err = "Dockerfile:2:13: --timeout cannot be less than 1ms"},
	{"healthcheck negative retries", "FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
	 .err = "Dockerfile:2:13: --retries cannot be negative"},
	{"healthcheck unknown flag", "FROM a\nHEALTHCHECK --intervall=1s CMD x\n",
	 .err = "Dockerfile:2:13: unknown flag --intervall for HEALTHCHECK (did you mean --interval?)"},
	{"label", "FROM a\nARG V=1.0\nLABEL org.opencontainers.image.version=$V \"desc\"=\"a b\"\n",
	 .want = {"{\"key\": \"org.opencontainers.image.version\", \"value\": \"1.0\"}",
		  "{\"key\": \"desc\", \"value\": \"a b\"}"}},
	{"label no args", "FROM a\nLABEL\n", .err = "Dockerfile:2:1: LABEL requires at least one argument"},
	{"maintainer", "FROM a\nMAINTAINER Jane <j@x>\n",
	 .want = {"\"kind\": \"MAINTAINER\"", "\"value\": \"Jane <j@x>\""}},
	{"onbuild recorded", "FROM a\nONBUILD RUN make\nONBUILD COPY . /src\n",
	 .want = {"\"onbuild\": [\"RUN make\", \"COPY . /src\"]", "\"value\": \"RUN make\""}},
	{"onbuild runs in child stage", "FROM a AS base\nONBUILD RUN echo trig\nFROM base\nRUN own\n",
	 .want = {"\"from_onbuild\": true", "\"argv\": [\"/bin/sh\", \"-c\", \"echo trig\"]", "\"total_steps\": 5"}},
	{"onbuild not inherited twice", "FROM a AS base\nONBUILD RUN t\nFROM base AS mid\nFROM mid\n",
	 .want = {"\"total_steps\": 5"}},
	{"onbuild child env", "FROM a AS base\nONBUILD ENV X=1\nFROM base\nENV Y=$X\n",
	 .want = {"{\"key\": \"Y\", \"value\": \"1\"}"}},
	{"onbuild bad trigger in child", "FROM a AS base\nONBUILD COPY --bogus x y\nFROM base\n",
	 .err = "Dockerfile:3: ONBUILD trigger 'COPY --bogus x y': unknown flag --bogus for COPY"},
	{"onbuild empty", "FROM a\nONBUILD\n", .err = "Dockerfile:2:1: ONBUILD requires at least one argument"},
	{"env flag rejected", "FROM a\nENV --x=1 A=b\n", .err = "Dockerfile:2:5: unknown flag --x for ENV"},
	{"workdir flag rejected", "FROM a\nWORKDIR --p /x\n", .err = "Dockerfile:2:9: unknown flag --p for WORKDIR"},
	/* target and order */
	{"target middle", "FROM a AS one\nFROM b AS two\nFROM c AS three\n", NULL, "two",
	 .want = {"\"target\": 1", "\"name\": \"two\""}, .nope = {"\"name\": \"one\"", "\"name\": \"three\""}},
	{"target with deps", "FROM a AS one\nFROM b AS two\nCOPY --from=one x y\nFROM c AS three\n", NULL,
	 "two", .want = {"\"name\": \"one\"", "\"name\": \"two\""}, .nope = {"\"name\": \"three\""}},
	{"target case", "FROM a AS one\nFROM b\n", NULL, "ONE", .want = {"\"target\": 0"}},
	{"target unknown", "FROM a AS build\nFROM b AS prod\n", NULL, "prd",
	 .err = "Dockerfile: target stage \"prd\" could not be found (did you mean \"prod\"?)"},
	{"target unknown far", "FROM a AS build\n", NULL, "zzzzzz",
	 .err = "Dockerfile: target stage \"zzzzzz\" could not be found"},
	{"cycle", "FROM a AS x\nCOPY --from=y a b\nFROM a AS y\nCOPY --from=x a b\n",
	 .err = "Dockerfile:3:1: circular dependency detected on stage: y"},
	{"cycle via mount", "FROM a AS x\nRUN --mount=from=y,target=/y true\nFROM a AS y\nCOPY --from=x a b\n",
	 .err = "Dockerfile:3:1: circular dependency detected on stage: y"},
	{"unused stages skipped", "FROM a AS x\nRUN one\nFROM b\nRUN two\n",
	 .want = {"\"total_steps\": 2", "\"stages_in_file\": 2"}, .nope = {"RUN one"}},
	{"numbering", "FROM a AS x\nRUN one\nFROM b\nCOPY --from=x a b\nRUN two\n",
	 .want = {"\"total_steps\": 5", "\"number\": 5"}},
	{"empty continuation warning", "FROM a\nRUN a \\\n\n b\n", .warn = "empty continuation line"},
};

static char **split_args(const char *s)
{
	char **v = NULL;
	if (!s)
		return NULL;
	char *dup = cb_xstrdup(s), *save = NULL;
	for (char *t = strtok_r(dup, "|", &save); t; t = strtok_r(NULL, "|", &save))
		v = cb_strv_push(v, t);
	free(dup);
	return v;
}

static void run_case(void **state)
{
	const pcase_t *c = *state;
	char **args = split_args(c->args);
	df_plan_opts_t o = {.build_args = args, .target = c->target,
			    .platform = {.target_platform = c->platform}};
	df_plan_t *p = NULL;
	char **warn = NULL;
	cb_error_t err = CB_ERROR_INIT;
	int r = df_plan_from_bytes(NULL, c->df, strlen(c->df), &o, &p, &warn, &err);
	cb_strv_free(args);
	if (c->err) {
		if (r == 0) {
			char *j = df_plan_to_json(p);
			fail_msg("%s: planned, wanted error %s\n%s", c->name, c->err, j);
		}
		char *first = df_error_first_line(&err);
		if (strcmp(first, c->err))
			fail_msg("%s:\n got: %s\nwant: %s", c->name, first, c->err);
		free(first);
		cb_error_release(&err);
		return;
	}
	if (r < 0)
		fail_msg("%s: unexpected error: %s", c->name, err.msg);
	char *j = df_plan_to_json(p);
	cb_buf_t all;
	cb_buf_init(&all);
	cb_buf_addstr(&all, j);
	for (size_t i = 0; warn && warn[i]; i++)
		cb_buf_addf(&all, "\nwarning: %s", warn[i]);
	for (size_t i = 0; i < CB_ARRAY_SIZE(c->want) && c->want[i]; i++)
		if (!strstr(j, c->want[i]))
			fail_msg("%s: plan lacks %s\n%s", c->name, c->want[i], all.data);
	for (size_t i = 0; i < CB_ARRAY_SIZE(c->nope) && c->nope[i]; i++)
		if (strstr(all.data, c->nope[i]))
			fail_msg("%s: plan has %s\n%s", c->name, c->nope[i], all.data);
	if (c->warn) {
		bool found = false;
		for (size_t i = 0; warn && warn[i]; i++)
			if (strstr(warn[i], c->warn))
				found = true;
		if (!found)
			fail_msg("%s: no warning %s\n%s", c->name, c->warn, all.data);
	}
	cb_buf_release(&all);
	free(j);
	cb_strv_free(warn);
	df_plan_free(p);
}

/* ---- builder-facing calls ---- */

static df_plan_t *plan_of(const char *df, const char *target)
{
	df_plan_opts_t o = {.target = target};
	df_plan_t *p = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_plan_from_bytes(NULL, df, strlen(df), &o, &p, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	return p;
}

static void test_suggest(void **state)
{
	(void)state;
	char *names[] = {"builder", "app", "tools", NULL};
	assert_string_equal(df_suggest("buidler", names), "builder");
	assert_string_equal(df_suggest("BUILDR", names), "builder");
	assert_string_equal(df_suggest("apx", names), "app");
	assert_null(df_suggest("builder", names)); /* it exists: no hint */
	assert_null(df_suggest("zzzzz", names));
	assert_null(df_suggest("x", names));      /* one letter is another word */
	assert_null(df_suggest("buildkitd", names));
	assert_null(df_suggest("b", NULL));
	/* every stage's name, also one the plan leaves out (a typo names none) */
	df_plan_t *p = plan_of("FROM busybox AS Builder\nRUN true\nFROM scratch AS out\n"
			       "COPY --from=buidler /x /x\n", NULL);
	assert_int_equal(p->n_stages, 1);
	assert_string_equal(df_plan_suggest_stage(p, "buidler"), "Builder");
	assert_null(df_plan_suggest_stage(p, "alpine"));
	df_plan_free(p);
}

/* A resolver that gives the same config to every FROM image stage, and
 * records the stages it was asked about. */
typedef struct fake_bases {
	const df_base_config_t *cfg;
	int asked[8];
	int n_asked;
} fake_bases_t;

static int fake_resolve(void *ctx, const df_stage_t *stage, df_base_config_t *cfg,
			cb_error_t *err)
{
	fake_bases_t *fb = ctx;
	(void)err;
	assert_int_equal(stage->base_kind, DF_BASE_IMAGE);
	if (fb->n_asked < 8)
		fb->asked[fb->n_asked++] = stage->index;
	*cfg = *fb->cfg;
	return 1;
}

/* df_plan_from_bytes with every base image given cfg; NULL on an error
 * (in *err). */
static df_plan_t *plan_with_base(const char *df, const df_base_config_t *cfg, fake_bases_t *fb,
				 cb_error_t *err)
{
	fake_bases_t local = {0};
	if (!fb)
		fb = &local;
	fb->cfg = cfg;
	df_plan_opts_t o = {.base = {fake_resolve, fb}};
	df_plan_t *p = NULL;
	if (df_plan_from_bytes(NULL, df, strlen(df), &o, &p, NULL, err) < 0)
		return NULL;
	return p;
}

static void test_set_base_env(void **state)
{
	(void)state;
	const char *df = "FROM img AS a\nENV PATH=/opt:$PATH\nWORKDIR rel\nRUN x\n"
			 "FROM a\nENV P2=$PATH\n";
	df_plan_t *p = plan_of(df, NULL);
	const df_stage_t *st = df_plan_stage(p, 0);
	assert_non_null(st);
	assert_string_equal(st->steps[0].u.kv.kvs[0].value, "/opt:");
	df_plan_free(p);
	char *env[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
	df_base_config_t cfg = {.env = env, .workdir = "/srv"};
	cb_error_t err = CB_ERROR_INIT;
	fake_bases_t fb = {0};
	p = plan_with_base(df, &cfg, &fb, &err);
	assert_non_null(p);
	assert_int_equal(fb.n_asked, 1); /* once, for the one FROM image */
	assert_int_equal(fb.asked[0], 0);
	st = df_plan_stage(p, 0);
	assert_string_equal(st->steps[0].u.kv.kvs[0].value, "/opt:/usr/bin:/bin");
	assert_string_equal(st->steps[1].u.value, "/srv/rel");
	assert_string_equal(st->steps[2].workdir, "/srv/rel");
	/* RUN sees the image env with the stage's ENV on top */
	assert_string_equal(st->steps[2].env[0], "PATH=/opt:/usr/bin:/bin");
	assert_string_equal(st->steps[2].env[1], "HOME=/root");
	/* the stage built FROM it starts from its end state */
	const df_stage_t *st1 = df_plan_stage(p, 1);
	assert_string_equal(st1->steps[0].u.kv.kvs[0].value, "/opt:/usr/bin:/bin");
	df_plan_free(p);
}

/* The plan is made once, with the base image's Env known: a word that needs
 * a variable only the image defines expands, as in BuildKit (the plan used
 * to be made without it first, and failed). */
static void test_base_env_in_first_plan(void **state)
{
	(void)state;
	const char *df = "FROM img\nWORKDIR ${DIR:?DIR must be set}\nCOPY a ${DIR}/b\n";
	char *env[] = {"DIR=/srv", NULL};
	df_base_config_t cfg = {.env = env};
	cb_error_t err = CB_ERROR_INIT;
	df_plan_t *p = plan_with_base(df, &cfg, NULL, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_string_equal(p->stages[0].steps[0].u.value, "/srv");
	assert_string_equal(p->stages[0].steps[1].u.copy.dest, "/srv/b");
	df_plan_free(p);
	/* without the image's Env it is an error */
	df_base_config_t none = {0};
	assert_null(plan_with_base(df, &none, NULL, &err));
	assert_non_null(strstr(err.msg, "DIR must be set"));
	cb_error_release(&err);
}

/* A stage used only through a variable of the base image's Env is found
 * and its own base resolved, parents before children. */
static void test_base_resolution_order(void **state)
{
	(void)state;
	const char *df = "FROM one AS a\nRUN a\nFROM two AS b\nRUN b\n"
			 "FROM a\nCOPY --from=b / /\n";
	df_base_config_t cfg = {0};
	fake_bases_t fb = {0};
	cb_error_t err = CB_ERROR_INIT;
	df_plan_t *p = plan_with_base(df, &cfg, &fb, &err);
	assert_non_null(p);
	assert_int_equal(fb.n_asked, 2);
	assert_int_equal(fb.asked[0], 0);
	assert_int_equal(fb.asked[1], 1);
	df_plan_free(p);
}

/* A target-less mount follows the base image's WorkingDir once it is known,
 * and "/" is refused then, as BuildKit does. */
static void test_set_base_mount_workdir(void **state)
{
	(void)state;
	const char *df = "FROM img\nRUN --mount=type=bind ls\n";
	df_base_config_t cfg = {.workdir = "/app"};
	cb_error_t err = CB_ERROR_INIT;
	df_plan_t *p = plan_with_base(df, &cfg, NULL, &err);
	assert_non_null(p);
	assert_string_equal(p->stages[0].steps[0].u.run.mounts[0].target, "/app");
	df_plan_free(p);
	df_base_config_t root = {.workdir = ""};
	assert_null(plan_with_base(df, &root, NULL, &err));
	char *first = df_error_first_line(&err);
	assert_string_equal(first, "Dockerfile:2:5: invalid mount target \"/\"");
	free(first);
	cb_error_release(&err);
}

static void test_set_base_shell(void **state)
{
	(void)state;
	char *shell[] = {"/bin/bash", "-c", NULL};
	df_base_config_t cfg = {.shell = shell};
	cb_error_t err = CB_ERROR_INIT;
	df_plan_t *p = plan_with_base("FROM img\nRUN x\n", &cfg, NULL, &err);
	assert_non_null(p);
	assert_string_equal(p->stages[0].steps[0].u.run.argv[0], "/bin/bash");
	df_plan_free(p);
}

static void test_onbuild_insert(void **state)
{
	(void)state;
	const char *df = "FROM a AS b\nRUN first\nFROM c\nCOPY --from=b x y\n";
	df_plan_t *p = plan_of(df, NULL);
	assert_int_equal(p->total_steps, 4);
	df_plan_free(p);
	char *trig[] = {"RUN echo onbuild", "COPY --chown=1 . /app", NULL};
	df_base_config_t only_b = {.onbuild = trig};
	cb_error_t err = CB_ERROR_INIT;
	/* both bases get the triggers: stage 0 and the target */
	p = plan_with_base(df, &only_b, NULL, &err);
	assert_non_null(p);
	const df_stage_t *st = df_plan_stage(p, 0);
	assert_int_equal(st->n_steps, 3);
	assert_true(st->steps[0].from_onbuild);
	assert_int_equal(st->steps[0].line, 1);
	assert_string_equal(st->steps[0].original, "RUN echo onbuild");
	assert_int_equal(st->steps[1].kind, DF_COPY);
	assert_string_equal(st->steps[1].u.copy.chown, "1");
	assert_false(st->steps[2].from_onbuild);
	assert_int_equal(p->total_steps, 8);
	assert_int_equal(st->steps[2].number, 4);
	df_plan_free(p);
}

static void test_onbuild_bad_trigger(void **state)
{
	(void)state;
	const char *df = "FROM a\nRUN x\n";
	char *t1[] = {"RUNN x", NULL};
	df_base_config_t c1 = {.onbuild = t1};
	cb_error_t err = CB_ERROR_INIT;
	assert_null(plan_with_base(df, &c1, NULL, &err));
	char *first = df_error_first_line(&err);
	assert_string_equal(first, "Dockerfile:1: ONBUILD trigger 'RUNN x' of the base image: unknown "
				   "instruction \"RUNN\" (did you mean \"RUN\"?)");
	free(first);
	cb_error_release(&err);
	char *t2[] = {"COPY --bogus a b", NULL};
	df_base_config_t c2 = {.onbuild = t2};
	assert_null(plan_with_base(df, &c2, NULL, &err));
	first = df_error_first_line(&err);
	assert_string_equal(first, "Dockerfile:1: ONBUILD trigger 'COPY --bogus a b': unknown flag "
				   "--bogus for COPY");
	free(first);
	cb_error_release(&err);
	char *t3[] = {"FROM x", NULL};
	df_base_config_t c3 = {.onbuild = t3};
	assert_null(plan_with_base(df, &c3, NULL, &err));
	cb_error_release(&err);
}

static void test_order(void **state)
{
	(void)state;
	df_plan_t *p = plan_of("FROM a AS final\nCOPY --from=gen a b\nCOPY --from=dep a b\n"
			       "FROM b AS gen\nCOPY --from=dep a b\nFROM c AS dep\n",
			       "final");
	assert_int_equal(p->n_stages, 3);
	assert_int_equal(p->stages[0].index, 2);
	assert_int_equal(p->stages[1].index, 1);
	assert_int_equal(p->stages[2].index, 0);
	assert_int_equal(p->target, 0);
	assert_null(df_plan_stage(p, 5));
	df_plan_free(p);
}

static void test_text(void **state)
{
	(void)state;
	df_plan_t *p = plan_of("FROM a AS b\nRUN x\nFROM scratch\nCOPY --from=b / /\n", NULL);
	char *t = df_plan_to_text(p);
	assert_string_equal(t, "# stage 0 (b): from image a\n"
			       "STEP 1/4: FROM a AS b\n"
			       "STEP 2/4: RUN x\n"
			       "# stage 1: from scratch [target]\n"
			       "STEP 3/4: FROM scratch\n"
			       "STEP 4/4: COPY --from=b / /\n");
	free(t);
	df_plan_free(p);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(df_kind_name(DF_HEALTHCHECK), "HEALTHCHECK");
	assert_string_equal(df_kind_name(DF_RUN), "RUN");
	assert_string_equal(df_kind_name(DF_MAINTAINER), "MAINTAINER");
}

/* ---- golden corpus ---- */

static char *read_or_null(const char *path)
{
	char *d = NULL;
	size_t n = 0;
	cb_error_t err = CB_ERROR_INIT;
	if (cb_read_file(path, 1 << 24, &d, &n, &err) < 0) {
		cb_error_release(&err);
		return NULL;
	}
	return d;
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_dir(const char *dir)
{
	char **v = NULL;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			v = cb_strv_push(v, e->d_name);
	closedir(d);
	qsort(v, cb_strv_len(v), sizeof(char *), cmp_names);
	return v;
}

/* Optional per-case options file: lines "target=S", "arg=K=V", "platform=P". */
static void case_opts(const char *dir, df_plan_opts_t *o, char ***args, char **target,
		      char **platform)
{
	char *path = cb_asprintf("%s/options", dir);
	char *s = read_or_null(path);
	free(path);
	if (!s)
		return;
	char *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "target=", 7))
			*target = cb_xstrdup(l + 7);
		else if (!strncmp(l, "arg=", 4))
			*args = cb_strv_push(*args, l + 4);
		else if (!strncmp(l, "platform=", 9))
			*platform = cb_xstrdup(l + 9);
	}
	free(s);
	o->build_args = *args;
	o->target = *target;
	o->platform.target_platform = *platform;
}

static void test_golden(void **state)
{
	(void)state;
	const char *root = "testdata/dockerfiles";
	bool update = getenv("UPDATE_GOLDEN") && *getenv("UPDATE_GOLDEN") == '1';
	char **names = list_dir(root);
	assert_non_null(names);
	size_t n = 0;
	for (size_t i = 0; names[i]; i++, n++) {
		char *dir = cb_asprintf("%s/%s", root, names[i]);
		char *dfp = cb_asprintf("%s/Dockerfile", dir);
		char *gp = cb_asprintf("%s/plan.json", dir);
		char *df = read_or_null(dfp);
		if (!df)
			fail_msg("%s: no Dockerfile", dir);
		df_plan_opts_t o = {0};
		char **args = NULL, *target = NULL, *platform = NULL;
		case_opts(dir, &o, &args, &target, &platform);
		df_plan_t *p = NULL;
		cb_error_t err = CB_ERROR_INIT;
		if (df_plan_from_bytes("Dockerfile", df, strlen(df), &o, &p, NULL, &err) < 0)
			fail_msg("%s: %s", dir, err.msg);
		char *j = df_plan_to_json(p);
		char *want = read_or_null(gp);
		if (update || !want) {
			write_file(gp, j);
		} else if (strcmp(j, want)) {
			fail_msg("%s: plan differs from plan.json (UPDATE_GOLDEN=1 to rewrite)\n%s", dir, j);
		}
		free(want);
		free(j);
		df_plan_free(p);
		cb_strv_free(args);
		free(target);
		free(platform);
		free(df);
		free(gp);
		free(dfp);
		free(dir);
	}
	cb_strv_free(names);
	if (n < 40)
		fail_msg("only %zu golden cases, want >= 40", n);
}

static void test_negative(void **state)
{
	(void)state;
	const char *root = "testdata/dockerfiles-negative";
	bool update = getenv("UPDATE_GOLDEN") && *getenv("UPDATE_GOLDEN") == '1';
	char **names = list_dir(root);
	assert_non_null(names);
	for (size_t i = 0; names[i]; i++) {
		char *dir = cb_asprintf("%s/%s", root, names[i]);
		char *dfp = cb_asprintf("%s/Dockerfile", dir);
		char *ep = cb_asprintf("%s/error", dir);
		char *df = read_or_null(dfp);
		if (!df)
			fail_msg("%s: no Dockerfile", dir);
		df_plan_opts_t o = {0};
		char **args = NULL, *target = NULL, *platform = NULL;
		case_opts(dir, &o, &args, &target, &platform);
		df_plan_t *p = NULL;
		cb_error_t err = CB_ERROR_INIT;
		if (df_plan_from_bytes("Dockerfile", df, strlen(df), &o, &p, NULL, &err) == 0)
			fail_msg("%s: planned but must fail", dir);
		char *got = cb_asprintf("%s\n", err.msg);
		char *want = read_or_null(ep);
		if (update || !want)
			write_file(ep, got);
		else if (strcmp(got, want))
			fail_msg("%s:\n got: %s\nwant: %s", dir, got, want);
		free(want);
		free(got);
		cb_error_release(&err);
		cb_strv_free(args);
		free(target);
		free(platform);
		free(df);
		free(ep);
		free(dfp);
		free(dir);
	}
	cb_strv_free(names);
}

int main(void)
{
	size_t n = CB_ARRAY_SIZE(cases), k = 0;
	struct CMUnitTest *t = calloc(n + 16, sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[k++] = (struct CMUnitTest){.name = cases[i].name, .test_func = run_case,
					     .initial_state = (void *)&cases[i]};
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_suggest);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_set_base_env);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_base_env_in_first_plan);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_base_resolution_order);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_set_base_shell);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_set_base_mount_workdir);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_onbuild_insert);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_onbuild_bad_trigger);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_order);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_text);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_kind_names);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_golden);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_negative);
	int r = _cmocka_run_group_tests("parser_plan", t, k, NULL, NULL);
	free(t);
	return r;
}
