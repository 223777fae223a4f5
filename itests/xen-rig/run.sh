#!/usr/bin/env bash
# ./backplane xen-test: Backplane against real Linux netfront and blkfront on a real Xen 4.17,
# booted under QEMU TCG (no hardware virtualization needed). Everything the rig needs comes
# from Debian packages (`apt-get download`, unpacked with `dpkg-deb -x`, cached); nothing is
# installed on the host except qemu-system-x86 and gcc when missing. docs/xen.md describes
# what is checked and the last results.
#
#   itests/xen-rig/run.sh [--bench] [--runs N] [--backends bp|kernel|both] [--profile] [--timeout SECONDS]
#                         [--java-opts "JVM OPTIONS"] [--java-opts-b "JVM OPTIONS"]
#                         [--guests "bp1 bp2 bp3"] [--kills N] [--cases "kill9 sigterm standby standby-kill9 update"]
#
# Test mode (default): dom0 runs Backplane in xen mode (features/*.json minus backplane-pv.json,
# plus features/xen/backplane-xen.json and one policy rule for the clamp check), then three PV
# guests (2 vCPUs, a vif and a raw-file vbd, xen-netback/xen-blkback NOT loaded; --guests runs
# only those named, e.g. --guests bp3 for the restart under a running guest, and skips the SPI
# check XenRigCheck; --kills N: how many times bp3's Backplane is killed with -9, default 3; --cases: which of bp3's
# cases run, default all); dom0.sh and
# guest-init print one "XENTEST PASS|FAIL <name> <detail>" line per check; the last line is
# "XENTEST SUMMARY pass=N fail=M". Exit status 0 only when every check passed.
# Bench mode: the same guest booted alternately against Backplane and against the kernel's
# xen-blkback/xen-netback, N runs each (default 3); medians and Backplane/kernel ratios.
# --backends bp (or kernel) benches one side only (for iterating on the data path; the ratios
# need both). --profile runs Backplane's JVM with a JFR recording (out/bp-*.jfr; read it on the
# host with `jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample FILE`). --java-opts
# sets the options of Backplane's JVM in dom0 (what BACKPLANE_JAVA_OPTS does for `backplane run`;
# default -XX:TieredStopAtLevel=1, as docs/xen.md recommends for a dom0). --java-opts-b (bench)
# adds a second Backplane side, "bpb", with these options to every run (bp, kernel, bpb, the
# kernel between the two), so that two JVM configurations compare against the same kernel runs.
#
# Work dir: $XEN_RIG_DIR, default /var/tmp/backplane-xen-rig (packages, unpacked trees,
# initramfs, console.log, out/). Needs root only for apt-get; QEMU runs unprivileged fine.
set -euo pipefail
# (the whole script is one brace group: bash parses it before running, so editing this file
# while a run is going cannot change what that run does)
{

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/itests/xen-rig"
WORK="${XEN_RIG_DIR:-/var/tmp/backplane-xen-rig}"
# Backplane's JVM in dom0 compiles with C1 only, as docs/xen.md recommends for a dom0 (C2's
# compiles took the guests' CPU for minutes after each start); --java-opts "" for the JVM's default
MODE=test RUNS=3 TIMEOUT="" BACKENDS=both PROFILE=0 JAVA_OPTS="-XX:TieredStopAtLevel=1" JAVA_OPTS_B="" BP_B=0 GUESTS="bp1 bp2 bp3" KILLS=3 CASES="kill9 sigterm standby standby-kill9 update"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) MODE=bench ;;
    --runs) RUNS="$2"; shift ;;
    --timeout) TIMEOUT="$2"; shift ;;
    --backends) BACKENDS="$2"; shift ;;
    --profile) PROFILE=1 ;;
    --java-opts) JAVA_OPTS="$2"; shift ;;
    --java-opts-b) JAVA_OPTS_B="$2"; BP_B=1; shift ;;
    --guests) GUESTS="$2"; shift ;;
    --kills) KILLS="$2"; shift ;;
    --cases) CASES="$2"; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "xen-test: unknown option $1 (--bench, --runs N, --backends bp|kernel|both, --profile, --java-opts "OPTS", --java-opts-b "OPTS", --timeout S, --guests "bp1 bp2 bp3", --kills N, --cases "kill9 sigterm standby standby-kill9 update")" >&2; exit 2 ;;
  esac
  shift
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "xen-test: --runs needs a positive number" >&2; exit 2; }
[[ "$KILLS" =~ ^[0-9]+$ ]] || { echo "xen-test: --kills needs a number" >&2; exit 2; }
[[ "$CASES" =~ ^((kill9|sigterm|standby|standby-kill9|update)( |$))+$ ]] || { echo "xen-test: --cases names some of kill9 sigterm standby standby-kill9 update, space-separated" >&2; exit 2; }
[[ "$BACKENDS" =~ ^(bp|kernel|both)$ ]] || { echo "xen-test: --backends is bp, kernel or both" >&2; exit 2; }
[[ $BP_B == 0 || ( $MODE == bench && $BACKENDS == both ) ]] || { echo "xen-test: --java-opts-b needs --bench and both backends" >&2; exit 2; }
[[ "$GUESTS" =~ ^(bp[123]( |$))+$ ]] || { echo "xen-test: --guests names some of bp1 bp2 bp3, space-separated" >&2; exit 2; }
if [[ -z "$TIMEOUT" ]]; then
  # test mode: Backplane's restarts under guest bp3 (kill -9 --kills times, SIGTERM, a standby)
  # take minutes each on a loaded host
  if [[ $MODE == test ]]; then TIMEOUT=$((2700 + KILLS * 300)); else TIMEOUT=$((1200 + RUNS * (900 + BP_B * 450))); fi
fi

DEBS="$WORK/debs" X="$WORK/x" SHARE="$WORK/share" OUT="$WORK/share/out"
mkdir -p "$DEBS" "$X"
T0=$SECONDS
say() { printf 'xen-test: [%4ds] %s\n' $((SECONDS - T0)) "$*"; }
die() { say "ERROR: $*"; exit 2; }

# 0. host tools ----------------------------------------------------------------------------------
host_pkgs=()
command -v qemu-system-x86_64 >/dev/null || host_pkgs+=(qemu-system-x86)
command -v gcc >/dev/null && [[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || host_pkgs+=(gcc libc6-dev)
for t in apt-get dpkg-deb cpio gzip xz strings ldd; do
  command -v "$t" >/dev/null || case "$t" in
    cpio) host_pkgs+=(cpio) ;; strings) host_pkgs+=(binutils) ;; xz) host_pkgs+=(xz-utils) ;;
    *) die "$t not found: this needs a Debian host" ;;
  esac
done
if [[ ${#host_pkgs[@]} -gt 0 ]]; then
  [[ $(id -u) -eq 0 ]] || die "missing ${host_pkgs[*]}: run as root or apt-get install them"
  say "installing on the host: ${host_pkgs[*]}"
  apt-get update -q >/dev/null || say "warning: apt-get update failed, trying the lists on disk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${host_pkgs[@]}" >/dev/null
fi

# 1. packages ------------------------------------------------------------------------------------
KPKG="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6/{print $2; exit}')"
if [[ -z "$KPKG" && $(id -u) -eq 0 ]]; then
  apt-get update -q >/dev/null || true
  KPKG="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6/{print $2; exit}')"
fi
[[ -n "$KPKG" ]] || die "cannot find the Debian 6.1 kernel package (run apt-get update)"
KVER="${KPKG#linux-image-}"
# the Xen libraries the tools need, and theirs (libxenstore4 needs libxentoolcore1, ...)
XEN_LIBS="" next="xen-utils-4.17 xenstore-utils"
while [[ -n "$next" ]]; do
  XEN_LIBS="$(echo $XEN_LIBS $next | tr ' ' '\n' | awk '/^lib/' | sort -u | tr '\n' ' ')"
  next="$(apt-cache depends $next | awk '/Depends: lib(xen|yajl)/{print $2}' | sort -u | while read -r l; do
    [[ " $XEN_LIBS " == *" $l "* ]] || echo "$l"; done | tr '\n' ' ')"
done
PKGS="xen-hypervisor-4.17-amd64 $KPKG busybox-static xen-utils-4.17 xen-utils-common xenstore-utils
      libxenstore4 $XEN_LIBS libyajl2 openjdk-17-jre-headless
      e2fsprogs libext2fs2 libcom-err2 libss2 libblkid1 libuuid1"
PKGS="$(echo $PKGS | tr ' ' '\n' | sort -u | tr '\n' ' ')"
if [[ "$(cat "$DEBS/.done" 2>/dev/null)" != "$PKGS" ]]; then
  say "apt-get download: $(echo $PKGS | wc -w) packages into $DEBS"
  (cd "$DEBS" && rm -f ./*.deb && apt-get download -q $PKGS 2>&1 | grep -v '^W: Download is performed unsandboxed' | grep -E '^(E|W):' || true)
  say "unpacking $(ls "$DEBS"/*.deb | wc -l) packages into $X"
  rm -rf "$X" && mkdir -p "$X"
  for d in "$DEBS"/*.deb; do dpkg-deb -x "$d" "$X"; done
  echo "$PKGS" > "$DEBS/.done"
else
  say "packages cached in $DEBS ($(ls "$DEBS"/*.deb | wc -l) .deb)"
fi
XEN_GZ="$(ls "$X"/boot/xen-4.17-amd64.gz)" || die "no xen-4.17-amd64.gz in the hypervisor package"
VMLINUZ="$X/boot/vmlinuz-$KVER"
MODDIR="$X/lib/modules/$KVER"
[[ -f "$VMLINUZ" && -d "$MODDIR" ]] || die "kernel $KVER not unpacked"
BB="$X/bin/busybox"
LIBPATH="$X/usr/lib/x86_64-linux-gnu:$X/lib/x86_64-linux-gnu:$X/usr/lib/xen-4.17/lib:$X/usr/lib/jvm/java-17-openjdk-amd64/lib:$X/usr/lib/jvm/java-17-openjdk-amd64/lib/server"

# Copies every library `ldd` names for the given ELF files into tree $1 (from the unpacked
# packages when there, else from the host: both are Debian 12).
copy_libs() {
  local tree="$1"; shift
  for elf in "$@"; do
    LD_LIBRARY_PATH="$LIBPATH" ldd "$elf" 2>/dev/null \
      | awk -v e="$elf" '/not found/{print "xen-test: warning: " e ": " $1 " not found" > "/dev/stderr"} /=> \//{print $3} /^\t\/lib64/{print $1}' || true
  done | sort -u | while read -r lib; do
    local rel="${lib#"$X"}"
    [[ -e "$tree$rel" ]] && continue
    mkdir -p "$tree$(dirname "$rel")"; cp -L "$lib" "$tree$rel"
  done
  mkdir -p "$tree/lib64"; [[ -e "$tree/lib64/ld-linux-x86-64.so.2" ]] || cp -L /lib64/ld-linux-x86-64.so.2 "$tree/lib64/"
}

# Copies module $2 and what its .modinfo depends= names into $1/modules, uncompressed, and
# appends them in load order to $1/modules/$3.
declare -A SEEN
addmod() {
  local tree="$1" name="${2//-/_}" list="$3" f dep
  [[ -n "${SEEN[$tree:$name]:-}" ]] && return; SEEN[$tree:$name]=1
  f="$(find "$MODDIR" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -1)"
  [[ -n "$f" ]] || { say "module $name is built in"; return; }
  mkdir -p "$tree/modules"
  case "$f" in *.xz) xz -dc "$f" > "$tree/modules/$name.ko";; *) cp "$f" "$tree/modules/$name.ko";; esac
  for dep in $(strings -a "$tree/modules/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do addmod "$tree" "$dep" "$list"; done
  echo "$name" >> "$tree/modules/$list"
}

# 2. dom0 initramfs (cached: rebuilt when the packages or dom0-init change) ----------------------
# bump DOM0_RECIPE when this section changes (the tree, the modules)
DOM0_RECIPE=1
D0KEY="$( (cat "$DEBS/.done" "$HERE/dom0-init"; echo "$DOM0_RECIPE") | sha256sum | cut -c1-16)"
if [[ "$(cat "$WORK/dom0.key" 2>/dev/null)" != "$D0KEY" || ! -f "$WORK/dom0.cpio.gz" ]]; then
  say "building the dom0 initramfs (busybox, Xen tools, JRE, e2fsprogs, modules)"
  R="$WORK/dom0-root"
  rm -rf "$R" && mkdir -p "$R"/{bin,sbin,proc,sys,dev,run,tmp,etc,host,var/lib/xenstored,var/lib/xen,var/log/xen/console}
  cp "$BB" "$R/bin/busybox"
  cp -a "$X/usr" "$X/etc" "$X/lib" "$R/"
  cp -a "$X/sbin/." "$R/sbin/"
  rm -rf "$R/usr/share/doc" "$R/usr/share/man" "$R/usr/share/locale" "$R/boot" "$R/lib/modules"
  for m in xen_privcmd xenfs xen_evtchn xen_gntdev xen_gntalloc tun virtio_pci 9pnet_virtio 9p; do addmod "$R" "$m" order; done
  # the kernel's own backends, loaded only for the bench's kernel runs
  for m in loop xen_blkback xen_netback; do addmod "$R" "$m" kernel-backends; done
  mapfile -t elfs < <(find "$R/usr/lib/xen-4.17" "$R/usr/bin" "$R/usr/sbin" "$R/sbin" "$R/usr/lib/jvm/java-17-openjdk-amd64/bin" \
      "$R/usr/lib/jvm/java-17-openjdk-amd64/lib" -maxdepth 2 -type f \( -perm -u+x -o -name '*.so*' \) 2>/dev/null \
      | grep -v -E '/lib(awt|awt_xawt|fontmanager|jsound|lcms|javajpeg|splashscreen|mlib_image)\.so')
  copy_libs "$R" "${elfs[@]}" 2> >(sort -u | head -5 >&2)
  ln -sf ../run "$R/var/run"
  install -m 755 "$HERE/dom0-init" "$R/init"
  (cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 > "$WORK/dom0.cpio.gz")
  echo "$D0KEY" > "$WORK/dom0.key"
  rm -rf "$R"
  say "dom0 initramfs $(du -h "$WORK/dom0.cpio.gz" | cut -f1)"
else
  say "dom0 initramfs cached ($(du -h "$WORK/dom0.cpio.gz" | cut -f1))"
fi
gunzip -c "$XEN_GZ" > "$WORK/xen.bin"
cp "$VMLINUZ" "$WORK/vmlinuz"

# 3. the share (9p, read by dom0): Backplane, scripts, guest kernel and initramfs ---------------
rm -rf "$SHARE" && mkdir -p "$SHARE"/{guest,bp,scripts} "$OUT"
BUILD_LOG="$WORK/build.log"
JAR="$ROOT/runtime/target/backplane-runtime.jar"
stale() { # as ./backplane decides: no jar, or a source newer than it
  [[ ! -f "$JAR" || -n "$(find "$ROOT/pom.xml" "$ROOT/bundles" "$ROOT/runtime" -path '*/target' -prune -o \
      \( -name '*.java' -o -name 'pom.xml' -o -name '*.bnd' -o -path '*/src/main/resources/*' \) -newer "$JAR" -print -quit)" ]]
}
if stale; then
  say "building Backplane (runtime and bundles; log: $BUILD_LOG)"
  if ! (cd "$ROOT" && { mvn -B -ntp -o -q -DskipTests install -pl runtime -am >"$BUILD_LOG" 2>&1 ||
                        mvn -B -ntp -q -DskipTests install -pl runtime -am >"$BUILD_LOG" 2>&1; }); then
    tail -30 "$BUILD_LOG" >&2; die "build failed (log: $BUILD_LOG)"
  fi
  touch "$JAR"
else
  say "Backplane is built and up to date"
fi
if [[ $MODE == test ]]; then
  # XenRigCheck (bundles/hypervisor-xen test classes): the SPI against /dev/xen in dom0
  say "building XenRigCheck (hypervisor-xen test classes)"
  mkdir -p "$SHARE/spi/lib"
  # -am: the checkout's own modules come from the reactor (their target/classes), so a fresh
  # machine with nothing of Backplane installed in its Maven repository builds it too; the last
  # module of the reactor, hypervisor-xen, writes the class path file last
  (cd "$ROOT" && { mvn -B -ntp -o -q -pl bundles/hypervisor-xen -am test-compile dependency:build-classpath \
      -Dmdep.outputFile="$WORK/spi-cp.txt" >>"$BUILD_LOG" 2>&1 || \
    mvn -B -ntp -q -pl bundles/hypervisor-xen -am test-compile dependency:build-classpath \
      -Dmdep.outputFile="$WORK/spi-cp.txt" >>"$BUILD_LOG" 2>&1; }) || die "building XenRigCheck failed (log: $BUILD_LOG)"
  cp -r "$ROOT/bundles/hypervisor-xen/target/classes" "$SHARE/spi/main"
  cp -r "$ROOT/bundles/hypervisor-xen/target/test-classes" "$SHARE/spi/test"
  n=0
  tr ':' '\n' < "$WORK/spi-cp.txt" | while read -r j; do
    if [[ -f "$j" ]]; then cp "$j" "$SHARE/spi/lib/"
    elif [[ -d "$j" ]]; then n=$((n + 1)); cp -r "$j" "$SHARE/spi/lib/classes-$n"   # a reactor module
    fi
  done
fi
# -p: the class-data archive names the jars of its class path by size and time
cp -rp "$ROOT/runtime/target/backplane-runtime.jar" "$ROOT/runtime/target/lib" "$ROOT/runtime/target/bundles" "$SHARE/bp/"
# Class-data sharing (docs/operations.md): the archive dom0 wrote for these jars and this JVM in
# an earlier run, if any; a run without one writes it (dom0.sh) and it is kept for the next
CDS_KEY="$( (cat "$WORK/dom0.key"; cd "$SHARE/bp" && find . -name '*.jar' -printf '%P %s %T@\n' | sort) | sha256sum | cut -c1-16)"
mkdir -p "$WORK/cds"
[[ -s "$WORK/cds/$CDS_KEY.jsa" ]] && cp "$WORK/cds/$CDS_KEY.jsa" "$SHARE/bp/backplane.jsa"
mkdir -p "$SHARE/bp/features" "$SHARE/bp/deploy"
cp "$ROOT"/features/*.json "$SHARE/bp/features/"
rm "$SHARE/bp/features/backplane-pv.json"
cp "$ROOT/features/xen/backplane-xen.json" "$SHARE/bp/features/"
# one admin rule, scoped to the second guest, so that a clamp can be seen (docs/feature-control.md)
cat > "$SHARE/bp/features/backplane-xen-rig.json" <<'JSON'
{
  "feature-resource-version": "1.0",
  "id": "io.backplane:backplane-xen-rig:osgifeature:0.1.0-SNAPSHOT",
  "name": "xen-test rig policy",
  "description": "itests/xen-rig: one policy rule for the clamp check, scoped to the guest bp2.",
  "bundles": [],
  "configurations": {
    "io.backplane.policy": { "rules": [ "vbd@bp2 feature-max-indirect-segments max=16" ] }
  }
}
JSON
install -m 755 "$HERE/dom0.sh" "$SHARE/scripts/dom0.sh"
install -m 755 "$ROOT/scripts/xen/block-backplane" "$SHARE/scripts/block-backplane"
gcc -O2 -static -Wall -o "$SHARE/scripts/rigtool" "$HERE/rigtool.c"
cat > "$SHARE/rig.env" <<ENV
MODE=$MODE
RUNS=$RUNS
BACKENDS=$BACKENDS
PROFILE=$PROFILE
BP_JAVA_OPTS="$JAVA_OPTS"
BP_B=$BP_B
BP_JAVA_OPTS_B="$JAVA_OPTS_B"
GUESTS="$GUESTS"
BP3_KILLS=$KILLS
BP3_CASES="$CASES"
ENV

say "building the guest initramfs (busybox, xen-netfront, xen-blkfront, ext4, e2fsprogs)"
GR="$WORK/guest-root"
rm -rf "$GR" && mkdir -p "$GR"/{bin,sbin,proc,sys,dev,tmp,mnt,etc}
cp "$BB" "$GR/bin/busybox"
for m in xen_netfront xen_blkfront crc32c_generic ext4; do addmod "$GR" "$m" order; done
for b in mke2fs e2fsck; do cp "$X/sbin/$b" "$GR/sbin/"; done
ln -s mke2fs "$GR/sbin/mkfs.ext4"; ln -s e2fsck "$GR/sbin/fsck.ext4"
cp "$X/etc/mke2fs.conf" "$GR/etc/"
copy_libs "$GR" "$GR/sbin/mke2fs" "$GR/sbin/e2fsck"
cp "$SHARE/scripts/rigtool" "$GR/bin/rigtool"
install -m 755 "$HERE/guest-init" "$GR/init"
(cd "$GR" && find . | cpio -o -H newc --quiet > "$SHARE/guest/guest.cpio")
# the uncompressed kernel ELF: with the XZ bzImage libxenguest spends ~13 s decompressing under TCG
OFF="$(LC_ALL=C grep -abo $'\xfd7zXZ' "$VMLINUZ" | head -1 | cut -d: -f1 || true)"
[[ -n "$OFF" ]] || die "no XZ payload in $VMLINUZ"
tail -c +$((OFF + 1)) "$VMLINUZ" | xz -dc 2>/dev/null > "$SHARE/guest/vmlinux" || true
[[ "$(head -c 4 "$SHARE/guest/vmlinux" | od -An -c | tr -d ' ')" == *ELF* ]] || die "could not extract the guest vmlinux"
say "guest: vmlinux $(du -h "$SHARE/guest/vmlinux" | cut -f1), initramfs $(du -h "$SHARE/guest/guest.cpio" | cut -f1)"

# 4. boot ----------------------------------------------------------------------------------------
say "booting Xen 4.17 under QEMU TCG ($MODE mode, timeout ${TIMEOUT} s); console: $WORK/console.log"
cd "$WORK"
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -machine q35 -accel tcg -cpu qemu64,+svm -m 3072 -smp 2 \
  -nographic -no-reboot -nic none -serial mon:stdio -kernel xen.bin \
  -append "console=com1 com1=115200,8n1 dom0_mem=1536M,max:1536M loglvl=all guest_loglvl=all noreboot" \
  -initrd "vmlinuz console=hvc0 earlyprintk=xen,dom0.cpio.gz" \
  -virtfs "local,path=$SHARE,mount_tag=host0,security_model=none" </dev/null > console.log 2>&1 &
QPID=$!
# progress: the dom0 script's XENSTEP/XENTEST lines as they come
tail -n +1 -F --pid=$QPID console.log 2>/dev/null | grep --line-buffered -a -E '^(XENSTEP|XENTEST|XENBENCH) ' \
  | while read -r l; do say "${l%$'\r'}"; done &
wait $QPID; QRC=$?
sleep 1
set -e
[[ $QRC -eq 124 ]] && say "FAIL: QEMU did not power off within ${TIMEOUT} s (hung? see $WORK/console.log)"
say "QEMU exited ($QRC)"
if [[ -s "$OUT/backplane.jsa" ]]; then
  rm -f "$WORK"/cds/*.jsa; mv "$OUT/backplane.jsa" "$WORK/cds/$CDS_KEY.jsa"
  say "class-data archive kept for the next run with these jars ($WORK/cds/$CDS_KEY.jsa)"
fi

# 5. results -------------------------------------------------------------------------------------
RES="$OUT/results.txt"
if [[ $MODE == bench ]]; then
  if [[ -s "$OUT/bench.txt" ]]; then
    "$HERE/bench-report.sh" "$OUT/bench.txt" | tee "$OUT/bench-report.txt"
  else
    say "no bench figures ($OUT/bench.txt missing)"
  fi
fi
if [[ ! -s "$RES" ]]; then
  echo "XENTEST FAIL rig no results from dom0 (QEMU exit $QRC); last console lines:"
  tail -20 console.log | tr -d '\r'
  echo "XENTEST SUMMARY pass=0 fail=1"
  exit 1
fi
echo "---- results ($RES)"
grep -a '^XENTEST \(PASS\|FAIL\|INFO\) ' "$RES" || true
pass=$(grep -ac '^XENTEST PASS ' "$RES" || true)
fail=$(grep -ac '^XENTEST FAIL ' "$RES" || true)
if ! grep -aq '^XENTEST END' "$RES"; then
  echo "XENTEST FAIL rig dom0 script did not finish (QEMU exit $QRC, see $WORK/console.log)"
  fail=$((fail + 1))
fi
echo "XENTEST SUMMARY pass=$pass fail=$fail ($(( SECONDS - T0 )) s; logs in $OUT)"
[[ $fail -eq 0 && $pass -gt 0 ]]
exit $?
}
