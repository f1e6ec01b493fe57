#!/usr/bin/env bash
# inspect --format: image and container fields, json, index, range.
. "$(dirname "$0")/lib.sh"
is "$(d inspect --format '{{.Config.Cmd}}' busybox)" "[sh]" "{{.Config.Cmd}}"
is "$(d inspect -f '{{json .Config.Cmd}}' busybox)" '["sh"]' "{{json ...}}"
is "$(d image inspect -f '{{index .RepoTags 0}}' busybox)" busybox:latest "{{index .RepoTags 0}}"
is "$(d inspect -f '{{.Os}}/{{.Architecture}}' busybox)" linux/amd64 "Os/Architecture"
like "$(d inspect -f '{{.Id}}' busybox)" "^sha256:[0-9a-f]{64}$" "Id"
d run -d --name i1 -e K=V busybox sleep 100 >/dev/null
is "$(d inspect -f '{{.State.Running}} {{.State.Status}}' i1)" "true running" "State"
is "$(d container inspect -f '{{.Name}}' i1)" /i1 "Name has docker's slash"
is "$(d inspect -f '{{range .Config.Env}}{{if eq 1 1}}{{end}}{{end}}x' i1 2>/dev/null || echo x)" x "(eq is optional)"
like "$(d inspect -f '{{range .Config.Env}}{{.}},{{end}}' i1)" "K=V," "range over Env"
is "$(d inspect -f '{{.Config.Image}}' i1)" busybox "Config.Image"
d stop -t 1 i1 >/dev/null
is "$(d inspect -f '{{.State.Running}} {{.State.ExitCode}}' i1)" "false 137" "after stop"
is "$(rc d inspect -f '{{.Nope}}' busybox)" 1 "a missing key fails"
is "$(rc d inspect nosuchthing)" 1 "a missing object fails"
like "$(d inspect busybox | head -1)" '^\[$' "without --format: a JSON array"
done_testing
