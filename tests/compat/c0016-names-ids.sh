#!/usr/bin/env bash
# container names and IDs: a generated name, a short ID prefix, --no-trunc.
. "$(dirname "$0")/lib.sh"
d run busybox true
name=$(d ps -a --format '{{.Names}}')
like "$name" "^[a-z]+_[a-z]+[0-9]*$" "a generated adjective_name"
id=$(d ps -a --no-trunc --format '{{.ID}}')
like "$id" "^[0-9a-f]{64}$" "--no-trunc: the full ID"
is "$(d ps -a --format '{{.ID}}')" "${id:0:12}" "the short ID is its first 12"
is "$(d inspect -f '{{.Id}}' "${id:0:6}")" "$id" "a unique prefix names it"
is "$(d rm "${id:0:12}")" "${id:0:12}" "rm by short ID"
done_testing
