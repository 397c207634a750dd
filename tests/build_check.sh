#!/usr/bin/env bash
# The first `make` on a bare machine: pkg-config knows none of the libraries until the
# package install has run. With stand-ins for pkg-config, apt-get, the compiler and ar
# first on PATH, a real `make -j4 build/custos` on a copy of the tree must (1) install
# before any compile, (2) compile with the flags pkg-config gives only after the install,
# and (3) never run two installs at once. Prints "build_check: N passed, N failed".
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/bin" "$d/tree"
(cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$d/tree")
log=$d/calls
cat >"$d/bin/pkg-config" <<STUB
#!/bin/sh
[ -f "$d/installed" ] || exit 1
case "\$1" in --exists) exit 0 ;; --cflags) echo "-DPKG_FLAGS_AFTER_INSTALL" ;; --libs) echo "-lstub" ;; esac
STUB
cat >"$d/bin/apt-get" <<STUB
#!/bin/sh
echo "apt-get \$*" >>"$log"
if [ "\$1" = install ] || [ "\$2" = install ] || echo "\$*" | grep -q install; then
  [ -f "$d/installing" ] && echo "CONCURRENT-INSTALL" >>"$log"
  touch "$d/installing"; touch "$d/installed"; rm -f "$d/installing"
fi
exit 0
STUB
cat >"$d/bin/cc-stub" <<STUB
#!/bin/sh
echo "cc \$*" >>"$log"
out=; while [ \$# -gt 0 ]; do [ "\$1" = -o ] && out=\$2; shift; done
[ -n "\$out" ] && : >"\$out"
exit 0
STUB
cat >"$d/bin/ar" <<STUB
#!/bin/sh
echo "ar \$*" >>"$log"; : >"\$2"
STUB
chmod +x "$d/bin/"*
ln -s cc-stub "$d/bin/cc"
ok=0 bad=0
check() { # description, command...
    local what=$1; shift
    if "$@"; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "  FAIL $what"; fi
}
(cd "$d/tree" && PATH="$d/bin:$PATH" make -j4 CC=cc-stub build/custos >"$d/out" 2>&1)
rc=$?
check "make exits 0 (see output below)" test "$rc" -eq 0
first_install=$(grep -n '^apt-get.*install' "$log" | head -n1 | cut -d: -f1)
first_cc=$(grep -n '^cc ' "$log" | head -n1 | cut -d: -f1)
check "the packages are installed" test -n "$first_install"
check "the install comes before the first compile" test "${first_install:-999999}" -lt "${first_cc:-0}"
check "every compile has pkg-config's flags from after the install" \
    test "$(grep '^cc .* -c ' "$log" | grep -vc PKG_FLAGS_AFTER_INSTALL)" -eq 0
check "the link has pkg-config's libraries" grep -q '^cc .*-o build/custos .*-lstub' "$log"
check "no two installs at once" test "$(grep -c CONCURRENT-INSTALL "$log")" -eq 0
check "only the build packages, not the test tools" test "$(grep -c 'install.*valgrind' "$log")" -eq 0
# A second make finds everything and installs nothing.
: >"$log"
(cd "$d/tree" && PATH="$d/bin:$PATH" make -j4 CC=cc-stub build/custos >"$d/out2" 2>&1)
check "a second make installs nothing" test "$(grep -c '^apt-get' "$log")" -eq 0
[ "$bad" -eq 0 ] || tail -n 20 "$d/out"
echo "build_check: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
