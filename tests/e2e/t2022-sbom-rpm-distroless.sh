#!/usr/bin/env bash
# build --sbom reads rpm's sqlite database (rpm >= 4.16) and distroless
# images' var/lib/dpkg/status.d: `rpm -qa` is the oracle for the first,
# on a real database (rpm --justdb) grown past one page per row (a 6 KB
# License: overflow chains) and to 401 rows (interior b-tree pages). A
# corrupt database is a warning, never a failed or crashed build.
. "$(dirname "$0")/lib.sh"
command -v rpmbuild >/dev/null && command -v rpm >/dev/null || skip_all "rpm and rpmbuild are not installed (make deps)"

export SOURCE_DATE_EPOCH=1700000000
import_busybox busybox:latest
C=$T/ctx
R=$T/rpm
mkdir -p "$C/fs/var/lib/rpm" "$C/fs/etc" "$R"
long=$(printf 'X%.0s' $(seq 6000))
cat >"$R/a.spec" <<SPEC
Name: cbtest-alpha
Version: 1.2.3
Release: 4.fc39
Epoch: 2
Summary: a test package
License: MIT and $long
BuildArch: noarch
%description
a test package
%files
SPEC
rpmq() { rpm --dbpath "$1" --define '_db_backend sqlite' "${@:2}" 2>/dev/null; }
rpmbuild -bb --define "_topdir $R/top" "$R/a.spec" >"$R/log" 2>&1; ok $? "rpmbuild a package"
rpmq "$R/db" --initdb && rpmq "$R/db" -i --justdb --nodeps "$R"/top/RPMS/noarch/*.rpm
ok $? "install it into a fresh sqlite rpm database"
python3 - "$R/db/rpmdb.sqlite" <<'PY'
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
blob = d.execute("select blob from Packages").fetchone()[0]
for i in range(400):
    d.execute("insert into Packages(blob) values (?)", (blob.replace(b"cbtest-alpha", b"cbtest-%05d" % i),))
d.commit()
d.close()
PY
ok $? "grow it to 401 packages"
rpmq "$R/db" -qa --nodigest --nosignature --qf '%{NAME} %{VERSION}-%{RELEASE}\n' | sort >"$T/rpm.txt"
is "$(wc -l <"$T/rpm.txt")" 401 "rpm -qa lists 401 packages"
cp "$R/db/rpmdb.sqlite" "$C/fs/var/lib/rpm/rpmdb.sqlite"
printf 'ID=fedora\nVERSION_ID=39\n' >"$C/fs/etc/os-release"
printf 'FROM busybox\nCOPY fs/ /\n' >"$C/Dockerfile"
cb build -q -t rpm:1 --sbom "$C" >/dev/null 2>"$T/err"; ok $? "build --sbom of an rpm image"
cb inspect --sbom rpm:1 >"$T/sbom.json"; ok $? "inspect --sbom"
purls() {
	python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["packages"]:
    for r in p.get("externalRefs", []):
        if r["referenceLocator"].startswith(sys.argv[2]):
            print(p["name"], p["versionInfo"])' "$@"
}
purls "$T/sbom.json" pkg:rpm/ | sort | diff - "$T/rpm.txt" >"$T/diff"
ok $? "the SBOM lists exactly what rpm -qa lists"
[ -s "$T/diff" ] && diag "$(head "$T/diff")"
grep -q 'pkg:rpm/fedora/cbtest-alpha@1.2.3-4.fc39?arch=noarch&epoch=2&distro=fedora-39' "$T/sbom.json"
ok $? "an rpm purl carries arch, epoch and distro"
grep -q "\"licenseDeclared\": \"MIT and XXXX" "$T/sbom.json"; ok $? "the License read across the overflow chain"

# a corrupt database: the image builds, the SBOM says what it could read
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
ps = int.from_bytes(b[16:18], "big")
for i in range(ps * 2, len(b), 7): b[i] = 0xff
open(sys.argv[1], "wb").write(b)' "$C/fs/var/lib/rpm/rpmdb.sqlite"
cb build -q -t bad:1 --sbom "$C" >/dev/null 2>"$T/err"; ok $? "a corrupt rpm database does not fail the build"
like "$(cat "$T/err")" "rpm database" "and says so"
head -c 5000 "$R/db/rpmdb.sqlite" >"$C/fs/var/lib/rpm/rpmdb.sqlite"
cb build -q -t short:1 --sbom "$C" >/dev/null 2>"$T/err"; ok $? "nor does a truncated one"

# distroless: status.d, one stanza a file, no Status field
D=$T/dl
mkdir -p "$D/fs/var/lib/dpkg/status.d" "$D/fs/etc"
printf 'Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc\n' >"$D/fs/var/lib/dpkg/status.d/libc6"
printf 'd41d8cd98f00b204e9800998ecf8427e  lib/x86_64-linux-gnu/libc.so.6\n' >"$D/fs/var/lib/dpkg/status.d/libc6.md5sums"
printf 'Package: libpython3.11-minimal\nVersion: 3.11.2-6\nArchitecture: amd64\n' >"$D/fs/var/lib/dpkg/status.d/libpython3.11-minimal"
printf 'ID=debian\nVERSION_ID="12"\n' >"$D/fs/etc/os-release"
printf 'FROM busybox\nCOPY fs/ /\n' >"$D/Dockerfile"
cb build -q -t dl:1 --sbom "$D" >/dev/null; ok $? "build --sbom of a distroless-style image"
cb inspect --sbom dl:1 >"$T/dl.json"
is "$(purls "$T/dl.json" pkg:deb/ | sort | tr '\n' ,)" "libc6 2.36-9+deb12u4,libpython3.11-minimal 3.11.2-6," \
	"status.d stanzas are packages, md5sums files are not"
done_testing
