#!/bin/sh
# mkcontext.sh DIR           one small file, COPYed after the 5th RUN
# mkcontext.sh --change DIR  change it: the last 10 RUN steps run again
set -eu
if [ "$1" = --change ]; then
	echo "changed" >> "$2/seed.txt"
	exit 0
fi
mkdir -p "$1"
printf 'seed of the manysteps case\n' > "$1/seed.txt"
