#!/bin/sh
# mkcontext.sh DIR           40 "sources" and 5 doc pages
# mkcontext.sh --change DIR  change one source: the build stage runs again
set -eu
if [ "$1" = --change ]; then
	echo "/* changed */" >> "$2/src/m17.c"
	exit 0
fi
mkdir -p "$1/src" "$1/doc"
i=0
while [ $i -lt 40 ]; do
	printf 'int f%d(int x) { return x * %d; }\n' $i $i > "$1/src/m$i.c"
	i=$((i + 1))
done
for p in intro install usage faq changes; do
	printf '# %s\n\nThe %s page of the manual.\n' $p $p > "$1/doc/$p.md"
done
