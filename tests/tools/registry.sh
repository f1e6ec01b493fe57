# tests/tools/registry.sh - the config of a throwaway docker-registry
# (Debian's docker-registry, distribution's registry) for the tests:
# its storage under DIR/data, deletes allowed, only errors logged,
# listening on ADDR. Sourced by tests/e2e/lib.sh (start_registry, which
# adds tls: and auth:) and tests/compat/lib.sh (reg_start).
#
#   registry_config DIR ADDR   the YAML on stdout (the http: block last)
registry_config() {
	echo "version: 0.1"
	echo "log: {level: error}"
	echo "storage: {filesystem: {rootdirectory: $1/data}, delete: {enabled: true}}"
	echo "http:"
	echo "  addr: $2"
}
