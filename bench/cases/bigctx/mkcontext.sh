#!/bin/sh
# mkcontext.sh DIR           20,000 files of pseudo-text, ~100 MB, in 200 folders
# mkcontext.sh --change DIR  change one of them
set -eu
if [ "$1" = --change ]; then
	echo "changed" >> "$2/src/d117/f011742.txt"
	exit 0
fi
mkdir -p "$1"
exec python3 - "$1" <<'PY'
import os, random, sys
root = os.path.join(sys.argv[1], "src")
rng = random.Random(10)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]
# a 2 MiB pool of text; each file is a slice of it, so the files compress like source
pool = []
n = 0
while n < 2 << 20:
    line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 14))) + "\n"
    pool.append(line)
    n += len(line)
pool = "".join(pool).encode()
for i in range(20000):
    d = os.path.join(root, "d%03d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    size = rng.randint(1024, 9216)
    off = rng.randint(0, len(pool) - size)
    with open(os.path.join(d, "f%06d.txt" % i), "wb") as f:
        f.write(pool[off:off + size])
PY
