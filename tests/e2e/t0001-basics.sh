#!/usr/bin/env bash
# The command line: version, help, usage errors and their exit codes.
. "$(dirname "$0")/lib.sh"

out=$(cb version); ok $? "version runs"
like "$out" "^cbuild version " "version prints its version"
out=$("$CBUILD" --help); ok $? "--help exits 0"
like "$out" "build" "--help lists build"
like "$out" "images" "--help lists images"
out=$(cb tag --help); ok $? "tag --help exits 0"
like "$out" "usage: cbuild tag" "tag --help prints its usage"

cb nosuchverb >/dev/null 2>&1; is $? 2 "unknown command exits 2"
cb images --bogus >/dev/null 2>&1; is $? 125 "unknown flag exits 125, as docker's flag parser"
err=$(cb tag onlyone 2>&1); is $? 1 "a wrong argument count exits 1 (docker's)"
like "$err" '^"cbuild tag" requires exactly 2 arguments\.$' "in docker's words"
like "$err" "Usage:  cbuild tag" "usage line after it"
err=$(cb rmi nosuch 2>&1); is $? 1 "failure exits 1"
like "$err" "^cbuild: error: no such image: 'nosuch:latest'" "error names the image"

out=$(cb images); ok $? "images on an empty store"
is "$(printf '%s\n' "$out" | wc -l)" 1 "empty store lists only the header"
[ -f "$ROOT/oci-layout" ] && [ -f "$ROOT/index.json" ] && [ -d "$ROOT/blobs/sha256" ]
ok $? "store root is an OCI layout"

# libcurl and libarchive (and the 40 libraries they bring), libyaml, zlib
# and libzstd load on first use only: a local command does not map them,
# one that needs them does. cbuild does not link libm at all (a sanitizer
# runtime may bring it: only cbuild's own NEEDED entries count).
maps() { LD_DEBUG=files "$@" 2>&1 >/dev/null |
	grep -Eo 'file=lib(curl|archive|yaml-0|z|zstd)\.so[.0-9]*' | sort -u | tr '\n' ' '; }
is "$(maps "$CBUILD" --root "$ROOT" images)" "" \
	"images loads none of libcurl, libarchive, libyaml, zlib, libzstd"
is "$(readelf -d "$CBUILD" | grep -Eo '\[lib(m|curl|archive|yaml-0|z|zstd)\.so[.0-9]*\]' | tr '\n' ' ')" "" \
	"cbuild's NEEDED entries name none of them, nor libm"
# Every thread zeroes the program's static TLS when it starts (a pull starts
# nine): scratch buffers go through cb_thread_alloc, not __thread arrays.
tls=$(readelf -lW "$CBUILD" | awk '$1 == "TLS" { print $6 }') # hex MemSiz, or nothing
[ $((${tls:-0})) -lt 4096 ]; ok $? "cbuild's static TLS is under 4 KiB (${tls:-none})"
like "$(maps "$CBUILD" --root "$ROOT" pull --tls-verify=false 127.0.0.1:1/nothing:1)" "file=libcurl.so" \
	"pull loads libcurl"
printf 'not a tar' > "$T/junk.tar"
like "$(maps "$CBUILD" --root "$ROOT" load -i "$T/junk.tar")" "file=libarchive.so" "load loads libarchive"
printf 'services:\n  web:\n    image: busybox\n' > "$T/compose.yaml"
like "$(maps "$CBUILD" --root "$ROOT" compose -f "$T/compose.yaml" config)" "file=libyaml-0.so" \
	"compose config loads libyaml"
done_testing
