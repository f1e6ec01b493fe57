#!/usr/bin/env bash
# login and logout against a registry (credentials in the config file).
. "$(dirname "$0")/lib.sh"
reg_start || { echo "1..0 # SKIP no registry"; exit 0; }
export DOCKER_CONFIG=$T/dockercfg HOME=$T/home
mkdir -p "$DOCKER_CONFIG" "$HOME/.docker"
like "$(d login -u ci -p secret "$REG" 2>/dev/null)" "Login Succeeded" "login -u -p"
like "$(echo secret | d login -u ci --password-stdin "$REG" 2>/dev/null)" "Login Succeeded" "login --password-stdin"
like "$(d logout "$REG" 2>&1)" "Removing login credentials for $REG" "logout"
done_testing
