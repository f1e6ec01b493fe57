#!/bin/sh
# mkcontext.sh DIR           make the context in DIR (deterministic)
# mkcontext.sh --change DIR  change one context file (the rebuild case)
set -eu
if [ "$1" = --change ]; then
	echo "changed" >> "$2/data.txt"
	exit 0
fi
mkdir -p "$1"
printf 'hello from the seed context\n' > "$1/data.txt"
