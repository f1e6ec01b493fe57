#!/bin/sh
# mkcontext.sh DIR           one small file, COPYed after the big RUN
# mkcontext.sh --change DIR  change it: the 512 MiB layer must come from cache
set -eu
if [ "$1" = --change ]; then
	echo "changed" >> "$2/stamp.txt"
	exit 0
fi
mkdir -p "$1"
printf 'stamp\n' > "$1/stamp.txt"
