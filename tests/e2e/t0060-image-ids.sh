#!/bin/bash
# Images are reachable by ID, not only by tag (issue 26): an untagged build
# prints an ID every verb accepts (full, sha256:, 12-char prefix, any unique
# prefix), untagged images are `<none>` rows, rmi refuses what a container
# or a child image needs with docker's texts and exit codes, and -f forces.
# The same scenario runs against Debian's dockerd (its own data root) when
# it starts here, so both answer the same to what a user types and greps.
. "$(dirname "$0")/lib.sh"
import_busybox

mkdir -p "$T/ctx" "$T/ctx2" "$T/base" "$T/child" "$T/dang"
printf 'FROM busybox\nRUN echo hi > /hi\nCMD ["cat", "/hi"]\n' >"$T/ctx/Dockerfile"
printf 'FROM busybox\nRUN echo two > /two\n' >"$T/ctx2/Dockerfile"
printf 'FROM busybox\nRUN echo base > /b\n' >"$T/base/Dockerfile"
printf 'FROM base:1\nRUN echo child > /c\n' >"$T/child/Dockerfile"

# scenario LABEL CMD...: the user's session, asserted the same for each tool
scenario() {
	local L=$1
	shift
	local tool=("$@") out rc id hex
	X() { "${tool[@]}" "$@"; }

	# an untagged build prints an ID
	id=$(X build -q --network none "$T/ctx" 2>"$T/err"); rc=$?
	is "$rc" 0 "$L: build without -t"
	like "$id" '^sha256:[0-9a-f]{64}$' "$L: prints the image ID"
	hex=${id#sha256:}
	is "$(X run --rm "$id" 2>&1)" hi "$L: run sha256:ID"
	is "$(X run --rm "$hex" 2>&1)" hi "$L: run of the bare full ID"
	is "$(X run --rm "${hex:0:12}" 2>&1)" hi "$L: run of the 12-char prefix"
	is "$(X run --rm "${hex:0:5}" 2>&1)" hi "$L: run of a shorter unique prefix"
	like "$(X inspect "${hex:0:12}" 2>&1)" "\"Id\": \"$id\"" "$L: inspect of the prefix"
	X history "${hex:0:12}" >/dev/null 2>&1; is $? 0 "$L: history of the prefix"
	X save -o "$T/$L-save.tar" "$id" 2>/dev/null; is $? 0 "$L: save of the ID"
	[ -s "$T/$L-save.tar" ]; ok $? "$L: writes the archive"
	out=$(X images 2>&1)
	like "$out" "<none> +<none> +${hex:0:12} " "$L: images shows a <none> row"
	X images -q 2>&1 | grep -qx "${hex:0:12}"; ok $? "$L: images -q lists it"
	like "$(X images -q --filter dangling=true 2>&1)" "${hex:0:12}" "$L: it is dangling"
	unlike "$(X images -q --filter dangling=false 2>&1)" "${hex:0:12}" "$L: dangling=false leaves it out"

	# tag of a prefix: the <none> row becomes a name
	X tag "${hex:0:12}" app:1; is $? 0 "$L: tag of the prefix"
	out=$(X images 2>&1)
	like "$out" "app +1 +${hex:0:12} " "$L: the tag's row"
	unlike "$out" "<none> +<none> +${hex:0:12} " "$L: no <none> row for it any more"

	# rmi of an image a container uses
	X run --name "$L-c1-$$" app:1 >/dev/null 2>&1
	out=$(X rmi app:1 2>&1); rc=$?
	is "$rc" 1 "$L: rmi of a tag a container uses fails"
	like "$out" "conflict: unable to remove repository reference \"app:1\" \(must force\) - container [0-9a-f]{12} is using its referenced image ${hex:0:12}" "$L: with docker's text"
	out=$(X rmi "${hex:0:12}" 2>&1); rc=$?
	is "$rc" 1 "$L: rmi of the ID a stopped container uses fails"
	like "$out" "conflict: unable to delete ${hex:0:12} \(must be forced\) - image is being used by stopped container [0-9a-f]{12}" "$L: with docker's text"
	X tag app:1 app:2
	out=$(X rmi "${hex:0:12}" 2>&1); rc=$?
	is "$rc" 1 "$L: rmi of an ID with two tags fails"
	like "$out" "conflict: unable to delete ${hex:0:12} \(must be forced\) - image is referenced in multiple repositories" "$L: with docker's text"
	out=$(X rmi app:2 2>&1); rc=$?
	is "$rc" 0 "$L: rmi of a second tag works"
	like "$out" "Untagged: app:2" "$L: untags it"
	unlike "$out" "Deleted" "$L: deletes nothing"
	out=$(X rmi -f app:1 2>&1); rc=$?
	is "$rc" 0 "$L: rmi -f of the last tag"
	like "$out" "Untagged: app:1" "$L: untags"
	like "$out" "Deleted: $id" "$L: and deletes the image"
	X inspect "$id" >/dev/null 2>&1; is $? 1 "$L: the ID is gone"
	X rm "$L-c1-$$" >/dev/null 2>&1

	# a parent stays while a child is built on it
	local bid bhex cid
	bid=$(X build -q --network none -t base:1 "$T/base" 2>/dev/null)
	cid=$(X build -q --network none -t child:1 "$T/child" 2>/dev/null)
	bhex=${bid#sha256:}
	out=$(X rmi base:1 2>&1); rc=$?
	is "$rc" 0 "$L: rmi of a parent's tag"
	like "$out" "Untagged: base:1" "$L: untags it"
	unlike "$out" "Deleted" "$L: and keeps the image"
	unlike "$(X images 2>&1)" "${bhex:0:12}" "$L: images hides the kept parent"
	like "$(X images -a 2>&1)" "<none> +<none> +${bhex:0:12} " "$L: images -a shows it"
	is "$(X run --rm "${bhex:0:12}" cat /b 2>&1)" base "$L: its ID still runs"
	out=$(X rmi "${bhex:0:12}" 2>&1); rc=$?
	is "$rc" 1 "$L: rmi of a parent's ID fails"
	like "$out" "conflict: unable to delete ${bhex:0:12} \(cannot be forced\) - image has dependent child images" "$L: with docker's text"
	out=$(X rmi child:1 2>&1); rc=$?
	is "$rc" 0 "$L: rmi of the child"
	like "$out" "Deleted: $cid" "$L: deletes the child"
	like "$out" "Deleted: $bid" "$L: and the untagged parent with it"

	# a retag leaves the old image dangling
	printf 'FROM busybox\nRUN echo one > /d\n' >"$T/dang/Dockerfile"
	local old new
	old=$(X build -q --network none -t dang:1 "$T/dang" 2>/dev/null)
	printf 'FROM busybox\nRUN echo other > /d\n' >"$T/dang/Dockerfile"
	new=$(X build -q --network none -t dang:1 "$T/dang" 2>/dev/null)
	old=${old#sha256:}
	out=$(X images 2>&1)
	like "$out" "<none> +<none> +${old:0:12} " "$L: the replaced image is a <none> row"
	like "$(X images -q --filter dangling=true 2>&1)" "${old:0:12}" "$L: and dangling"
	is "$(X run --rm "${old:0:12}" cat /d 2>&1)" one "$L: and still runs by ID"
	X rmi "${old:0:12}" >/dev/null 2>&1; is $? 0 "$L: rmi of a dangling ID"

	# --iidfile
	rm -f "$T/$L-iid"
	out=$(X build -q --network none --iidfile "$T/$L-iid" "$T/ctx2" 2>/dev/null)
	is "$(cat "$T/$L-iid" 2>/dev/null)" "$out" "$L: --iidfile holds the printed ID"
	hex=$(cut -c8-19 "$T/$L-iid")
	like "$(X images 2>&1)" "<none> +<none> +$hex " "$L: that untagged image is listed"

	# an ambiguous prefix: make images until two IDs share a first digit
	local ids="" i
	first="" # global: the test below asks cbuild why
	local ctrs
	# docker's inspect also matches container and network IDs (host, none):
	# skip their first digits too
	ctrs=$( (X ps -aq --no-trunc; X network ls -q --no-trunc) 2>/dev/null | tr '\n' ' ')
	for i in $(seq 1 40); do
		printf 'FROM busybox\nLABEL n=%s\n' "$i" >"$T/ctx2/Dockerfile"
		out=$(X build -q --network none "$T/ctx2" 2>/dev/null)
		out=${out#sha256:}
		case " $ctrs " in *" ${out:0:1}"*) ids="$ids $out"; continue ;; esac
		case " $ids " in *" ${out:0:1}"*) first=${out:0:1}; break ;; esac
		ids="$ids $out"
	done
	X inspect "$first" >/dev/null 2>"$T/err"; is $? 1 "$L: an ambiguous prefix is refused"; [ -n "$first" ] || diag "$L: no two of 40 IDs shared a first digit?"
}

scenario cbuild "$CBUILD" --root "$ROOT"
# $first: the prefix the scenario found shared by two images (set there)
like "$(cb inspect "$first" 2>&1)" "ambiguous|no such image" "cbuild: says why"

# gc keeps untagged images (they are roots) but prune drops dangling ones
id=$(cb build -q --network none "$T/ctx" 2>/dev/null)
cb rmi busybox:latest >/dev/null 2>&1 # a parent: kept
cb inspect "$id" >/dev/null 2>&1; ok $? "an untagged image survives gc (rmi runs it)"
cb prune >/dev/null 2>&1
cb inspect "$id" >/dev/null 2>&1; is $? 1 "prune removes a dangling image"

# push by ID (docker's push takes no ID: cbuild's SRC DEST form)
if start_registry; then
	import_busybox
	id=$(cb build -q --network none "$T/ctx" 2>/dev/null)
	cb push -q "${id:7:12}" "$REG/byid:1" >/dev/null 2>&1; ok $? "push of an ID prefix"
	R2=$T/root2
	"$CBUILD" --root "$R2" pull -q "$REG/byid:1" >/dev/null 2>&1
	is "$("$CBUILD" --root "$R2" images -q --no-trunc)" "$id" "the pushed image has the ID"
	stop_registry
else
	fail "push of an ID" "no registry"
fi

# Debian's dockerd, when it starts here: the same scenario
if dockerd_has && [ "$(id -u)" = 0 ]; then
	WHY=
	if dockerd_start && dockerd_load_busybox; then
		# the classic builder: docker's parent links, as `docker build` without BuildKit
		DOCKER_HOST=unix://$DD/sock DOCKER_BUILDKIT=0 scenario docker /usr/bin/docker
	else
		diag "docker half skipped: $WHY"
	fi
	dockerd_stop "$DD"
else
	diag "no dockerd here (or not root): docker half skipped"
fi
done_testing
