#!/usr/bin/env bash
# Makes audit/testdata/rpm/rpmdb.sqlite, the RPM database webperm's tests read: two packages
# built with rpmbuild and recorded with rpm -i --justdb into an empty database (rpm's sqlite
# backend, rpm >= 4.16; Debian's rpm package has it: apt-get install --no-install-recommends rpm).
#   testapp  /usr/share/testapp/{index.php,config.php,lib/util.php,locale/*.txt}, SHA-256 digests;
#            its 300 locale files make its header some 20 KB, past one SQLite page, so the
#            reader follows overflow pages
#   oldapp   /usr/share/oldapp/readme.txt and /etc/oldapp.conf, MD5 digests (rpm < 4.6's)
# The files' contents and digests are the tests' too (audit/rpmpackages_test.go,
# internal/rpmdb/rpmdb_test.go): change them together. rpm warns that Debian installs with alien;
# --justdb installs nothing but the database.
# Usage: scripts/mkrpmdb.sh [OUT], OUT defaulting to audit/testdata/rpm/rpmdb.sqlite.
set -euo pipefail
out=${1:-audit/testdata/rpm/rpmdb.sqlite}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/src/testapp/lib" "$tmp/src/testapp/locale" "$tmp/src/oldapp"
printf '<?php\necho "testapp";\n' >"$tmp/src/testapp/index.php"
printf '<?php\n$db_password = "";\n' >"$tmp/src/testapp/config.php"
printf '<?php\nfunction util() {}\n' >"$tmp/src/testapp/lib/util.php"
for i in $(seq -w 1 300); do
  printf 'locale %s\n' "$i" >"$tmp/src/testapp/locale/messages-with-a-long-name-$i.txt"
done
printf 'oldapp\n' >"$tmp/src/oldapp/readme.txt"
printf 'secret = ""\n' >"$tmp/src/oldapp/oldapp.conf"

cat >"$tmp/testapp.spec" <<EOF
Name: testapp
Version: 1.0
Release: 1
Summary: webperm's test package
License: MIT
BuildArch: noarch
%description
A web application for webperm's tests.
%install
mkdir -p %{buildroot}/usr/share
cp -r $tmp/src/testapp %{buildroot}/usr/share/testapp
%files
%dir /usr/share/testapp
/usr/share/testapp/index.php
%config(noreplace) /usr/share/testapp/config.php
/usr/share/testapp/lib
/usr/share/testapp/locale
EOF

cat >"$tmp/oldapp.spec" <<EOF
Name: oldapp
Version: 2.0
Release: 1
Summary: webperm's test package with MD5 digests
License: MIT
BuildArch: noarch
%description
A package whose file digests are MD5, as rpm before 4.6 made them.
%install
mkdir -p %{buildroot}/usr/share/oldapp %{buildroot}/etc
cp $tmp/src/oldapp/readme.txt %{buildroot}/usr/share/oldapp/
cp $tmp/src/oldapp/oldapp.conf %{buildroot}/etc/
%files
/usr/share/oldapp
%config /etc/oldapp.conf
EOF

build() {
  rpmbuild --quiet -bb --define "_topdir $tmp/build" --define '_build_id_links none' "$@"
}
build "$tmp/testapp.spec"
build --define '_binary_filedigest_algorithm 1' "$tmp/oldapp.spec"

mkdir -p "$tmp/root"
rpm --root "$tmp/root" --dbpath /var/lib/rpm --define '_db_backend sqlite' --initdb
rpm --root "$tmp/root" --dbpath /var/lib/rpm --define '_db_backend sqlite' \
  -i --justdb --nodeps --noscripts "$tmp"/build/RPMS/noarch/*.rpm
rpm --root "$tmp/root" --dbpath /var/lib/rpm -qa | sort
# rpm's database is in WAL mode; webperm reads the main file only, which rpm's last close left
# with everything (a -wal file with pages in it would mean it did not).
if [ -s "$tmp/root/var/lib/rpm/rpmdb.sqlite-wal" ]; then
  echo "mkrpmdb: rpmdb.sqlite-wal is not empty" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$tmp/root/var/lib/rpm/rpmdb.sqlite" "$out"
chmod 0644 "$out"
