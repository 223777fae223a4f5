#!/bin/sh
# dom0's side of ./backplane xen-test (itests/xen-rig/run.sh puts it on the 9p share /host):
# starts the Xen daemons and Backplane, creates the guests, checks what the guest reports
# against dom0's own view (image bytes, holes, XenStore, TAP, Backplane's counters), destroys
# the guests and checks nothing is left. One "XENTEST PASS|FAIL name detail" line per check,
# on the console and in /host/out/results.txt; "XENTEST END" when the script got to its end.
. /host/rig.env
OUT=/host/out RES=/host/out/results.txt BP=/host/bp ST=/run/backplane
JAVA=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
RT=/host/scripts/rigtool
D0IP=10.99.0.1 GIP=10.99.0.2
MiB=1048576
: > "$RES"
step() { echo "XENSTEP $*"; }
res() { _r="XENTEST $1 $2 $3"; echo "$_r"; echo "$_r" >> "$RES"; }   # PASS, FAIL, or INFO (a figure)
check() { if [ "$1" = "$2" ]; then res PASS "$3" "$4: ${1:-none}"; else res FAIL "$3" "$4: got '$1', expected '$2'"; fi; }
now() { $RT now; }
# wait_for SECONDS COMMAND...: polls every second; 0 when COMMAND succeeded in time
wait_for() {
  t=$1; shift
  while [ "$t" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 1; t=$((t - 1)); done
  "$@" >/dev/null 2>&1
}
xsr() { xenstore-read "$1" 2>/dev/null; }
# a background child that exited stays a zombie until waited for: kill -0 alone is not enough
alive() { [ -n "$1" ] && [ -e /proc/$1 ] && ! grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; }
dead() { ! alive "$1"; }
bp_up_or_gone() { grep -q 'Backplane running' /tmp/bp.out || dead "$BPPID"; }

step "dom0 up: $(uname -r), $(nproc) vCPUs, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB"
xenstored --pid-file /run/xenstored.pid || res FAIL rig "xenstored did not start"
wait_for 10 test -S /run/xenstored/socket
xen-init-dom0 >/dev/null || res FAIL rig "xen-init-dom0 failed"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console || res FAIL rig "xenconsoled did not start"
cp /host/scripts/block-backplane /etc/xen/scripts/block-backplane
# the kernel blkback baseline (bench): what Xen's `block` script does for a file, minus bash/flock
cat > /etc/xen/scripts/block-rig-loop <<'EOF'
#!/bin/sh
case "$1" in
  add) f=$(xenstore-read "$XENBUS_PATH/params"); dev=$(losetup -f) && losetup "$dev" "$f" &&
       xenstore-write "$XENBUS_PATH/node" "$dev" "$XENBUS_PATH/physical-device" "$(stat -L -c %t:%T "$dev")" \
                      "$XENBUS_PATH/hotplug-status" connected ;;
  remove) dev=$(xenstore-read "$XENBUS_PATH/node") && losetup -d "$dev" ;;
esac
EOF
chmod +x /etc/xen/scripts/block-rig-loop
step "xenstored, xen-init-dom0, xenconsoled running; $($JAVA -version 2>&1 | head -1)"

# ---- Backplane ---------------------------------------------------------------------------------
BPPID=""
# Class-data sharing (docs/operations.md, BACKPLANE_CDS_ARCHIVE): run.sh passes the archive an
# earlier run of the same jars wrote, if any; without one the first start writes it when it stops.
JSA=/tmp/backplane.jsa
[ -s $BP/backplane.jsa ] && cp $BP/backplane.jsa $JSA
cds_options() { if [ -s $JSA ]; then echo "-XX:SharedArchiveFile=$JSA"; else echo "-XX:ArchiveClassesAtExit=$JSA"; fi; }
# the state dir's log outlives an instance when it is kept: lines are counted from a mark
log_lines() { cat $ST/backplane.log 2>/dev/null | wc -l; }
log_since() { tail -n +$(($1 + 1)) $ST/backplane.log 2>/dev/null; }
# log lines as TIME MESSAGE (the date, level and logger dropped), 400 characters at most
log_times() { sed 's/^[0-9-]* \([0-9:.]*\) [A-Z]* *[a-z-]* [A-Za-z]*: /\1 /' | cut -c1-400; }
# bp_start [keep]: a fresh state dir, or with "keep" the one a previous instance left (its
# device records' files, the request mirrors, are what a restart after kill -9 replays from)
bp_start() {
  [ "$1" = keep ] || rm -rf "$ST"
  rm -rf /tmp/bp-deploy; mkdir -p /tmp/bp-deploy
  t0=$(now) JFR=""
  # --profile: a JFR recording of the whole run, written when Backplane exits
  [ "$PROFILE" = 1 ] && JFR="-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=$OUT/bp-$(now).jfr"
  BP_CDS=$(cds_options)
  BP_LOG0=$(log_lines)
  $JAVA $BP_JAVA_OPTS $JFR $BP_CDS -jar $BP/backplane-runtime.jar --state-dir $ST --features $BP/features --bundles $BP/bundles \
    --deploy /tmp/bp-deploy > /tmp/bp.out 2>&1 &
  BPPID=$!
  # Running, or its JVM gone (a failed start need not wait out the 600 s)
  wait_for 600 bp_up_or_gone
  if grep -q 'Backplane running' /tmp/bp.out; then
    BP_STARTED="$(grep 'Backplane running' /tmp/bp.out | sed 's/, state dir [^,]*,/:/; s/Shell:.*//')"
    BP_START_MS=$(( $(now) - t0 ))
    BP_STARTED="$BP_STARTED (${BP_CDS%%=*})"
    return 0
  fi
  # what it said (a JVM crash's report names the frame) goes to the host with the results
  cat /tmp/bp.out >> $OUT/backplane-stdout.log
  cp hs_err_pid*.log $OUT/ 2>/dev/null
  BP_STARTED="$(alive $BPPID && echo "not running after 600 s" || echo "exited before it ran"): $(grep -m1 -E 'Problematic frame|Exception|Error' -A1 /tmp/bp.out | tr '\n' ' ') (backplane-stdout.log)"
  return 1
}
bp_stop() {
  [ -n "$BPPID" ] || return 0
  kill -TERM "$BPPID" 2>/dev/null
  wait_for 90 dead "$BPPID"; rc=$?
  alive "$BPPID" && kill -KILL "$BPPID"
  wait "$BPPID" 2>/dev/null
  cat /tmp/bp.out >> $OUT/backplane-stdout.log
  log_since "$BP_LOG0" >> $OUT/backplane.log
  BPPID=""
  return $rc
}
bp_shell() {
  $JAVA -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$(ls $BP/lib/backplane-control-*.jar | head -1)" \
    io.backplane.control.client.ShellMain --state-dir $ST "$@" 2>&1
}

# ---- guests -------------------------------------------------------------------------------------
glog() { tr -d '\r' < "/var/log/xen/console/guest-$NAME.log" 2>/dev/null; }
gsync() { glog | grep -a -o "XENSYNC $1.*" | tail -1; }
# wait_sync KEY SECONDS: the guest printed "XENSYNC KEY ..."
wait_sync() {
  wait_for "$2" has_sync "$1" && return 0
  res FAIL "sync-$1" "$NAME: the guest did not report '$1' within $2 s (last guest lines: $(glog | tail -3 | tr '\n' '|'))"
  return 1
}
has_sync() { glog | grep -a -q "XENSYNC $1"; }
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

all_connected() { [ "$(xsr $VIFFE/state)" = 4 ] && [ "$(xsr $VBDFE/state)" = 4 ] && [ "$(xsr $VIFBE/state)" = 4 ] && [ "$(xsr $VBDBE/state)" = 4 ]; }
# diag WHAT: what dom0 knows, into out/diag-WHAT.txt
diag() {
  { echo "== xl list"; xl list; echo "== backend"; xenstore-ls -f /local/domain/0/backend
    echo "== frontends"; for d in $(xenstore-list /local/domain); do [ "$d" = 0 ] || xenstore-ls -f /local/domain/$d/device; done
    echo "== xl log"; cat /tmp/xl-$NAME.log; echo "== ps"; ps; echo "== Backplane stdout"; tail -50 /tmp/bp.out
    echo "== backplane.log"; tail -150 $ST/backplane.log; echo "== guest console"; glog | tail -60
  } > "$OUT/diag-$1.txt" 2>&1
}
# guest_create NAME MODE BACKEND(bp|kernel) "vif:KEY=VALUE vbd:KEY=VALUE ..."
guest_create() {
  NAME=$1 GMODE=$2 BACKEND=$3 REQS=$4 D=""
  # test mode's --guests: a guest not named is skipped, and so is its guest_destroy
  SKIPPED=""
  if [ "$MODE" = test ]; then
    case " ${GUESTS:-$NAME} " in *" $NAME "*) ;; *) SKIPPED=1; return 1 ;; esac
  fi
  IMG=/tmp/$NAME.img
  rm -f "$IMG" "/var/log/xen/console/guest-$NAME.log"; truncate -s 256M "$IMG"
  if [ "$BACKEND" = bp ]; then VBDSCRIPT=block-backplane; else VBDSCRIPT=block-rig-loop; fi
  cat > /tmp/$NAME.cfg <<EOF
name = "$NAME"
type = "pv"
kernel = "/host/guest/vmlinux"
ramdisk = "/host/guest/guest.cpio"
extra = "console=hvc0 xen_blkfront.max_ring_page_order=4 rig.mode=$GMODE rig.ip=$GIP rig.peer=$D0IP"
memory = 320
vcpus = 2
vif = [ 'mac=00:16:3e:52:49:47,script=/bin/true' ]
disk = [ 'format=raw,vdev=xvda,access=rw,script=$VBDSCRIPT,target=$IMG' ]
on_crash = "destroy"
on_poweroff = "destroy"
EOF
  t0=$(now)
  if ! timeout 300 xl -vvv create -p /tmp/$NAME.cfg > /tmp/xl-$NAME.log 2>&1; then
    res FAIL "$NAME-create" "xl create -p failed after $(( ($(now) - t0) / 1000 )) s: $(grep -v '^libxl: debug' /tmp/xl-$NAME.log | tail -3 | tr '\n' ' ')"
    diag "$NAME-create"
    D=$(xl domid "$NAME" 2>/dev/null)
    return 1
  fi
  CREATE_MS=$(( $(now) - t0 ))
  cp /tmp/xl-$NAME.log $OUT/ 2>/dev/null
  D=$(xl domid "$NAME")
  VIFBE=/local/domain/0/backend/vif/$D/0 VBDBE=/local/domain/0/backend/vbd/$D/51712
  VIFFE=/local/domain/$D/device/vif/0 VBDFE=/local/domain/$D/device/vbd/51712
  for r in $REQS; do
    dev=${r%%:*} kv_=${r#*:}; key=${kv_%%=*} val=${kv_#*=}
    if [ "$dev" = vif ]; then be=$VIFBE; else be=$VBDBE; fi
    xenstore-write "$be/request-$key" "$val"
    wait_for 30 xenstore-exists "$be/feature-control/$key/status" \
      || res FAIL "$NAME-request-$key" "no feature-control/$key/status 30 s after writing request-$key=$val"
  done
  [ "$BACKEND" = kernel ] && xenstore-write "$VIFBE/hotplug-status" connected
  if wait_for 30 test -e /sys/class/net/vif$D.0; then
    ip addr add $D0IP/24 dev vif$D.0 && ip link set vif$D.0 up
  else
    res FAIL "$NAME-tap" "no vif$D.0 in dom0 30 s after xl create"
  fi
  if [ "$GMODE" != feature ]; then
    # listeners for the guest's sends (the guest starts sending on its own)
    [ -p /tmp/hold ] || mkfifo /tmp/hold
    exec 4<>/tmp/hold
    rm -f /tmp/g2d
    if [ "$GMODE" = reattach ]; then $RT tcp-sink 5002 /tmp/g2d 2400 > /tmp/g2d-gaps & G2D=$!
    else timeout 900 nc -l -p 5002 <&4 > /tmp/g2d & G2D=$!; fi
    [ "$GMODE" = test ] && { $RT udp-recv 5003 200 900 > /tmp/udp-g2d & UDP=$!; }
  fi
  xl unpause "$NAME"
  if wait_for 120 all_connected; then
    CONNECT_MS=$(( $(now) - t0 ))
    res PASS "$NAME-connected" "domain $D: vif and vbd Connected on both ends $CONNECT_MS ms after xl create ($BACKEND backends; xl create -p took $CREATE_MS ms)"
  else
    res FAIL "$NAME-connected" "domain $D after 120 s: vif $(xsr $VIFBE/state)/$(xsr $VIFFE/state), vbd $(xsr $VBDBE/state)/$(xsr $VBDFE/state) (backend/frontend)"
    diag "$NAME-connect"
    return 1
  fi
}

# guest_results: the guest's own XENTEST lines into the results, with the guest's name
guest_results() {
  glog | grep -a -o 'XENTEST \(PASS\|FAIL\) guest-.*' | sed "s/XENTEST \(PASS\|FAIL\) guest-/XENTEST \1 $NAME-guest-/" | tee -a "$RES"
  cp "/var/log/xen/console/guest-$NAME.log" "$OUT/guest-$NAME.log" 2>/dev/null
}

leak_baseline() { B_GNT=$(grep -c /dev/xen/gntdev /proc/$BPPID/maps); B_EVT=$(grep -c 'evtchn:' /proc/interrupts); }
taps() { ls /sys/class/net | grep '^vif' | tr '\n' ' '; }
# guest_destroy NAME: xl destroy, then nothing of the guest may stay in dom0
guest_destroy() {
  [ -z "$SKIPPED" ] || return 0
  kill $G2D $UDP 2>/dev/null; G2D="" UDP=""
  exec 4>&- 2>/dev/null
  [ -n "$D" ] && { timeout 60 xl destroy "$NAME" || res FAIL "$NAME-destroy" "xl destroy failed"; }
  wait_for 30 sh -c "! xl domid $NAME" || res FAIL "$NAME-destroy" "domain still listed 30 s after xl destroy"
  wait_for 30 sh -c "! xenstore-exists /local/domain/0/backend/vif/$D && ! xenstore-exists /local/domain/0/backend/vbd/$D"
  [ "$BACKEND" = bp ] || return 0
  leaks() {
    [ "$(grep -c /dev/xen/gntdev /proc/$BPPID/maps)" = "$B_GNT" ] && [ "$(grep -c 'evtchn:' /proc/interrupts)" = "$B_EVT" ] && [ -z "$(taps)" ]
  }
  wait_for 30 leaks
  gnt=$(grep -c /dev/xen/gntdev /proc/$BPPID/maps); evt=$(grep -c 'evtchn:' /proc/interrupts)
  check "$gnt" "$B_GNT" "$NAME-destroy-grants" "gntdev mappings in Backplane's /proc/$BPPID/maps after xl destroy (before the guest: $B_GNT)"
  check "$evt" "$B_EVT" "$NAME-destroy-evtchn" "event channels bound through /dev/xen/evtchn after xl destroy (/proc/interrupts evtchn:*; before the guest: $B_EVT)"
  check "$(taps)" "" "$NAME-destroy-tap" "vif interfaces left in dom0"
  pvd="$(bp_shell pv:devices)"
  echo "$pvd" > "$OUT/pv-devices-after-$NAME.txt"
  case "$pvd" in *"no PV devices"*) res PASS "$NAME-destroy-pv-devices" "pv:devices: no PV devices" ;;
    *) res FAIL "$NAME-destroy-pv-devices" "pv:devices still lists: $(echo "$pvd" | tail -n +2 | tr -s ' ' | tr '\n' '|')" ;; esac
}

# the cases bp3 runs (run.sh --cases; all by default)
wants() { case " ${BP3_CASES:-kill9 sigterm standby standby-kill9 update} " in *" $1 "*) return 0 ;; esac; return 1; }
bp3_states() { echo "$(xsr $VIFBE/state)/$(xsr $VIFFE/state) $(xsr $VBDBE/state)/$(xsr $VBDFE/state)"; }
adoptions() { log_since "$1" | grep -o '[0-9]*/v[a-z]*/[0-9]*: re-attached to the live rings.*'; }
two_adoptions() { [ "$(adoptions "$1" | grep -c .)" -ge 2 ]; }
# A restart, a standby's take-over and a netback update each open the vif's TAP: a persistent one
# (xen mode's tap.persistent) is the same interface, with dom0's address; a TAP made anew has
# lost it. tap_watch gives a new TAP the address the moment it appears (what a vif hotplug
# script does for an address on the vif itself; on a bridge Backplane re-joins it alone), in the
# background, so the TCP stream's stall is Backplane's, not the script's; pause_report stops it.
tap_watch() {
  kill $TAPW 2>/dev/null
  TAPIDX=$(cat /sys/class/net/vif$D.0/ifindex 2>/dev/null)
  ( n=0
    while [ $n -lt 6000 ]; do
      i=$(cat /sys/class/net/vif$D.0/ifindex 2>/dev/null)
      if [ -n "$i" ] && [ "$i" != "$TAPIDX" ]; then ip addr add $D0IP/24 dev vif$D.0 && ip link set vif$D.0 up; exit; fi
      sleep 0.1; n=$((n + 1))
    done ) &
  TAPW=$!
}
# adopted CASE MARK STARTED: both devices re-attached (not renegotiated) since log line MARK, still 4/4
adopted() {
  wait_for 90 two_adoptions "$2"
  a=$(adoptions "$2")
  check "$(echo "$a" | grep -c .)" 2 "bp3-adopted-$1" "devices re-attached $(( $(now) - $3 )) ms after the $1 began ($(echo "$a" | sed 's/ (/: (/' | tr '\n' '|'))"
  check "$(bp3_states)" "4/4 4/4" "bp3-$1-states" "vif and vbd state (backend/frontend) after the $1"
  # the drivers' own re-attach lines say how many requests came from a request mirror
  r=$(log_since "$2" | grep -o '[0-9]* requests the last backend took and never answered served again' | awk '{s += $1} END {print s + 0}')
  REPLAYED=$((REPLAYED + r))
  [ "$r" -gt 0 ] && REPLAYS="$REPLAYS $1:$r"
  return 0
}
# reattach_start CASE: Backplane started again on the same state dir under guest bp3
reattach_start() {
  started=$(now)   # not t: wait_for counts down in t
  if ! bp_start keep; then res FAIL "bp3-restart-$1" "$BP_STARTED"; return 1; fi
  res PASS "bp3-restart-$1" "$BP_STARTED ($BP_START_MS ms)"
  adopted "$1" "$BP_LOG0" "$started"
}

# The pause the guest saw: the guest reports every block round over 3x its mean ("slow-round");
# dom0's tcp-sink every stall of the guest's TCP stream over 250 ms, with its end on dom0's clock.
# Each case starts at a mark (the guest's slow rounds counted then, dom0's clock then); a case's
# TCP stall is the longest that overlaps it (TCP's retransmission backoff can end it long after
# the backend is back, so these are read when the stream has ended).
slow_rounds() { glog | grep -a -o 'XENSYNC slow-round.*'; }
slow_after() { [ "$(slow_rounds | wc -l)" -gt "$1" ]; }
# The guest's pause probe (one 4 KiB read at a time) reports each read over 250 ms ("blk-stall"):
# the pause itself, without the rest of a block round around it.
disk_stalls() { glog | grep -a -o 'XENSYNC blk-stall.*'; }
pause_mark() { MARK=$(slow_rounds | wc -l); SMARK=$(disk_stalls | wc -l); T0=$(now); }
pause_report() {
  # the round that spanned the pause ends once the vbd is back
  wait_for 60 slow_after "$MARK"
  blk=$(slow_rounds | tail -n +$((MARK + 1)) | sed 's/.*ms=//' | sort -n | tail -1)
  res PASS "bp3-pause-$1" "the guest's longest block round since the $1 began: ${blk:-(none over 3x the mean)} ms"
  PAUSES="$PAUSES $1:${blk:-0}"
  stall=$(disk_stalls | tail -n +$((SMARK + 1)) | sed 's/.*ms=//' | sort -n | tail -1)
  res PASS "bp3-stall-$1" "the guest's longest wait for a 4 KiB read since the $1 began: ${stall:-(none over 250)} ms"
  STALLS="$STALLS $1:${stall:-0}"
  echo "$1 $T0" >> /tmp/cases
  # and the guest answers on its vif again
  pinged() { ping -c 1 -W 2 $GIP >/dev/null 2>&1; }
  p0=$(now)   # not t: wait_for counts down in t
  if wait_for 60 pinged; then
    kill $TAPW 2>/dev/null
    res PASS "bp3-$1-ping" "the guest answers dom0's ping after the $1 (waited $(( $(now) - p0 )) ms; $(ifindex_note))"
  else
    res FAIL "bp3-$1-ping" "no answer to dom0's ping 60 s after the $1's adoption (out/net-$1.txt)"
    { ip addr; ip route; grep . /sys/class/net/vif$D.0/statistics/*; bp_shell pv:show bp3/vif/0; } > $OUT/net-$1.txt 2>&1
  fi
}
# whether the case kept the vif's interface (a persistent TAP) or made it anew
ifindex_note() {
  if [ -z "$TAPIDX" ]; then echo "TAP not watched"
  elif [ "$(cat /sys/class/net/vif$D.0/ifindex 2>/dev/null)" = "$TAPIDX" ]; then echo "same TAP, ifindex $TAPIDX"
  else echo "new TAP"; fi
}
# tcp_stalls: per case, the longest stall of the stream that overlaps it (up to the next case)
tcp_stalls() {
  echo "end $(now)" >> /tmp/cases
  awk 'NR == FNR { name[NR] = $1; t[NR] = $2; n = NR; next }
       /^gap/ { split($2, e, "="); split($3, g, "="); end = e[2] + 0; start = end - g[2]
                for (i = 1; i < n; i++) if (end > t[i] && start < t[i + 1] && g[2] + 0 > m[i]) m[i] = g[2] + 0 }
       END { for (i = 1; i < n; i++) printf "%s:%d ", name[i], m[i] + 0 }' /tmp/cases /tmp/g2d-gaps
}
# standby_case CASE SIGNAL: a successor starts on a state dir of its own while the predecessor
# serves; its bus leaves both devices to their live owner. Then the predecessor gets SIGNAL: on
# TERM it hands every device over at once and the successor adopts each the moment its owner key
# goes (nothing served again); on KILL nothing changes in XenStore, the successor sees the owner's
# process gone and adopts both as a dead process's, taking the request mirrors over from the dead
# one's state dir.
standby_case() {
  c=$1 sig=$2
  ST2=/run/backplane-$c OLDPID=$BPPID OLDST=$ST
  # The last standby (serving now) wrote 'Backplane running' into /tmp/bp2.out: the file goes here,
  # not in the background job's own redirection, which may come after the first look at it.
  rm -rf $ST2 /tmp/bp-deploy-$c /tmp/bp2.out; mkdir -p /tmp/bp-deploy-$c
  t0=$(now)
  # --profile: the standby's own JFR recording, and when each class was loaded (the adoption's cold code)
  JFR2=""
  [ "$PROFILE" = 1 ] && JFR2="-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=$OUT/standby-$c.jfr -Xlog:class+load=info:file=$OUT/classes-$c.txt:uptime"
  # the standby's collections and safepoints, with wall-clock times to set beside its log
  JVMLOG="-Xlog:gc,safepoint:file=$OUT/jvm-$c.txt:time"
  $JAVA $BP_JAVA_OPTS $JFR2 $JVMLOG $(cds_options) -jar $BP/backplane-runtime.jar --state-dir $ST2 --features $BP/features --bundles $BP/bundles \
    --deploy /tmp/bp-deploy-$c > /tmp/bp2.out 2>&1 &
  NEWPID=$!
  standby_up() { grep -qs 'Backplane running' /tmp/bp2.out || dead "$NEWPID"; }
  wait_for 600 standby_up
  if ! grep -q 'Backplane running' /tmp/bp2.out; then
    res FAIL bp3-$c-start "the standby did not run within 600 s ($(alive $NEWPID && echo running || echo exited)): $(tail -3 /tmp/bp2.out | tr '\n' ' '); $(free -m | awk '/Mem:/ {print "free " $4 " MiB of " $2}'); $(dmesg | grep -i -E 'oom|killed process' | tail -2 | tr '\n' ' ')"
    kill -KILL "$NEWPID" 2>/dev/null
    return 1
  fi
  res PASS bp3-$c-start "a second instance running on $ST2 after $(( $(now) - t0 )) ms beside the serving one"
  # "running" comes before the bus has looked at every device: give it that look before counting
  left_alone() { [ "$(grep -c 'not served here: Connected and served by the live process' $ST2/backplane.log)" -ge 2 ]; }
  wait_for 60 left_alone
  check "$(grep -c 'not served here: Connected and served by the live process' $ST2/backplane.log)" 2 bp3-$c-leaves \
    "devices the standby left to their live owner $OLDPID"
  # its warm-up (docs/backends.md, "Standby start"): the adoption's code run on each device's keys
  # and scratch files of its own before the owner goes; the kill waits for it as an operator would
  rehearsed() { [ "$(grep -c -E 'rehearsed its adoption|rehearsing its adoption failed' $ST2/backplane.log)" -ge 2 ]; }
  wait_for 300 rehearsed
  # and the vbd's rings and persistent grants mapped beside the owner ("holding ... ready for adoption")
  prepared() { grep -q -E 'ready for adoption|preparing its adoption failed' $ST2/backplane.log; }
  wait_for 120 prepared
  step "$c: dom0 memory with two JVMs: serving $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$OLDPID/status), standby $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$NEWPID/status), $(free -m | awk '/Mem:/ {print "free " $4 " MiB of " $2 ", available " $7}')"
  step "$c: standby's warm-up: $(grep -a -E 'rehears|ready for adoption' $ST2/backplane.log | log_times | tr '\n' '|')"
  sleep 2   # the standby's code settles (its start's JIT work done) before the owner goes
  pause_mark; tap_watch
  started=$(now)
  sent=$($RT clock)   # on the log's clock: the timeline's first entry
  kill -$sig "$OLDPID"
  ST=$ST2
  adopted $c 0 "$started"
  BPPID=$OLDPID ST=$OLDST
  wait_for 90 dead "$OLDPID"
  alive "$OLDPID" && { res FAIL bp3-$c-old-stop "the predecessor still runs 90 s after SIG$sig"; kill -KILL "$OLDPID"; }
  wait "$OLDPID" 2>/dev/null
  cat /tmp/bp.out >> $OUT/backplane-stdout.log; log_since "$BP_LOG0" >> $OUT/backplane.log
  # dom0's memory is tmpfs: the old instance's framework cache goes (its mirrors were taken over)
  rm -rf $OLDST/felix-cache
  ST=$ST2 BPPID=$NEWPID BP_LOG0=0
  cp /tmp/bp2.out /tmp/bp.out
  # the timings behind the pause: the old instance's handovers, the standby's adoptions (log times)
  step "$c: SIG$sig sent to the serving instance at $sent"
  step "$c: old: $(grep -a -E 'handing every device over|let go [0-9]+ ms after' $OUT/backplane.log | tail -3 | log_times | tr '\n' '|')"
  step "$c: standby: $(log_since 0 | grep -a -E 'died; adopting|claiming it on what|probed:|interface ready|re-attached|first answer after' | grep -a -v rehears | log_times | tr '\n' '|')"
  if [ $sig = TERM ]; then
    check "$(log_since 0 | grep -c 'served again')" 0 bp3-$c-no-replay "requests served again after the standby's adoption"
  else
    check "$(ls $ST2/devices/vbd/$D/51712 2>/dev/null | grep -c '\.requests$')" 2 bp3-$c-mirrors \
      "the vbd's request mirrors taken over from the killed owner's $OLDST into the standby's $ST2"
  fi
  pause_report $c
  sleep 5
}

# feature-control record of one request: "status value"
fc() { echo "$(xsr $1/feature-control/$2/status) $(xsr $1/feature-control/$2/value)"; }
nqueues() { n=$(xenstore-list "$VIFFE" 2>/dev/null | grep -c '^queue-'); [ "$n" = 0 ] && n=1; echo "$n"; }
ringorder() { o=$(xsr $VBDFE/ring-page-order); echo "${o:-0}"; }
# the ring-ref keys of the first (or only) blkfront queue
ringrefs() { q=$VBDFE; xenstore-exists $VBDFE/queue-0 && q=$VBDFE/queue-0; xenstore-list $q | grep '^ring-ref' | tr '\n' ' '; }

if [ "$MODE" = test ] && [ -d /host/spi ] && [ "$GUESTS" = "bp1 bp2 bp3" ]; then
  # ---- the hypervisor SPI alone: XenRigCheck (gntdev, evtchn, privcmd, GNTST codes) ---------------
  step "XenRigCheck: the xen hypervisor bundle's SPI against /dev/xen"
  timeout 300 $JAVA -cp "/host/spi/test:/host/spi/main:$(ls -d /host/spi/lib/*.jar /host/spi/lib/classes-* 2>/dev/null | tr '\n' ':')" \
    io.backplane.hypervisor.xen.XenRigCheck > $OUT/xenrigcheck.txt 2>&1
  sed -n 's/^XENRIG \(PASS\|FAIL\) \([^:]*\)\(: \)\{0,1\}\(.*\)$/\1|\2|\4/p' $OUT/xenrigcheck.txt | while IFS='|' read -r v n d; do
    res "$v" "spi-$(echo "$n" | tr ' ,/' '---' | tr -s '-' | cut -c1-48)" "${d:-$n}"
  done
  grep -q 'XENRIG DONE' $OUT/xenrigcheck.txt || res FAIL spi-done "XenRigCheck did not finish: $(tail -2 $OUT/xenrigcheck.txt | tr '\n' ' ')"
fi

if [ "$MODE" = test ]; then
  # ---- Backplane in xen mode ---------------------------------------------------------------------
  step "starting Backplane in xen mode (features: $(ls $BP/features | tr '\n' ' '))"
  if bp_start; then
    res PASS bp-start "$BP_STARTED ($BP_START_MS ms)"
  else
    res FAIL bp-start "$BP_STARTED"
    echo "XENTEST END"; echo "XENTEST END" >> "$RES"; exit 1
  fi
  if ! grep -q 'SharedArchiveFile' /proc/$BPPID/cmdline 2>/dev/null; then
    # no class-data archive yet: this instance writes one when it stops, and the next start maps it
    bp_stop; n=$BP_START_MS
    if [ -s $JSA ] && bp_start; then
      res PASS bp-cds "class-data archive written ($(du -k $JSA | cut -f1) KiB); start without it $n ms, with it $BP_START_MS ms"
      cp $JSA $OUT/backplane.jsa
    else
      res FAIL bp-cds "no class-data archive after the first stop, or the start with it failed: $BP_STARTED"
    fi
  fi
  lsmod | grep -q -E '^xen_(netback|blkback)' && res FAIL rig "a kernel backend is loaded"
  leak_baseline
  step "baseline: $B_GNT gntdev mappings, $B_EVT evtchn bindings; creating guest bp1"

  # ---- guest 1: data path, queues=1, ring order 0, an unknown feature ----------------------------
  if guest_create bp1 test bp "vif:multi-queue-max-queues=1 vif:feature-rig-bogus=1 vbd:max-ring-page-order=0"; then
    check "$(fc $VIFBE multi-queue-max-queues)" "accepted 1" bp1-fc-queues "feature-control/multi-queue-max-queues: status value"
    check "$(xsr $VIFBE/request-multi-queue-max-queues || echo removed)" removed bp1-fc-queues-ack "accepted request-multi-queue-max-queues removed (acknowledged)"
    check "$(nqueues)/$(xsr $VIFFE/multi-queue-num-queues)" "1/1" bp1-netfront-queues "netfront queues (queue-N dirs / multi-queue-num-queues)"
    check "$(fc $VBDBE max-ring-page-order)" "accepted 0" bp1-fc-ring-order "feature-control/max-ring-page-order: status value"
    check "$(ringorder)" 0 bp1-blkfront-ring-order "blkfront ring-page-order (refs of queue 0: $(ringrefs))"
    st=$(xsr $VIFBE/feature-control/feature-rig-bogus/status)
    check "$st" rejected bp1-fc-rejected "unknown feature-rig-bogus (reason: $(xsr $VIFBE/feature-control/feature-rig-bogus/reason); request kept: $(xsr $VIFBE/request-feature-rig-bogus))"
    if wait_sync info 90; then
      l=$(gsync info); check "$(kv "$l" net-queues)" 1 bp1-guest-net-queues "guest /sys/class/net/eth0/queues tx-*"
    fi
    # block: the guest's bytes in dom0's image
    if wait_sync raw-written 120; then
      l=$(gsync raw-written); off=$(kv "$l" offset) len=$(kv "$l" length) want=$(kv "$l" sha256)
      got=$(dd if=$IMG bs=1M skip=$((off / MiB)) count=$((len / MiB)) 2>/dev/null | sha256sum | cut -c1-64)
      check "$got" "$want" bp1-dom0-raw-bytes "4 MiB the guest wrote O_DIRECT, read in dom0's image file at $((off / MiB)) MiB"
    fi
    if wait_sync discarded 120; then
      l=$(gsync discarded); off=$(kv "$l" offset) len=$(kv "$l" length)
      h=$($RT hole $IMG $off $len)
      check "$h" hole bp1-dom0-discard-hole "8 MiB blkdiscard'ed by the guest at $((off / MiB)) MiB is a hole in the image (SEEK_DATA; image uses $(du -k $IMG | cut -f1) KiB)"
    fi
    if wait_sync fs-written 240; then
      n=0 bad=""
      for l in $(glog | grep -a -o 'XENSYNC fs-file [^ ]* sha256=[0-9a-f]*' | sed 's/XENSYNC fs-file //; s/ sha256=/=/'); do
        f=${l%%=*} want=${l#*=}
        got=$(debugfs -R "cat $f" $IMG 2>/dev/null | sha256sum | cut -c1-64)
        n=$((n + 1)); [ "$got" = "$want" ] || bad="$bad $f"
      done
      if [ $n -ge 4 ] && [ -z "$bad" ]; then res PASS bp1-dom0-fs-bytes "$n files of the guest's ext4, read with debugfs from dom0's image, checksums equal"
      else res FAIL bp1-dom0-fs-bytes "$n files read with debugfs; differing:${bad:- none (too few files)}"; fi
    fi
    # network
    if wait_sync net-up 180; then
      p=$(ping -c 3 -W 3 $GIP 2>&1); pr=$?
      [ $pr = 0 ] && res PASS bp1-ping-from-dom0 "$(echo "$p" | tail -1)" || res FAIL bp1-ping-from-dom0 "$(echo "$p" | tail -2 | tr '\n' ' ')"
    fi
    if wait_sync tcp-sent 150; then
      l=$(gsync tcp-sent)
      wait_for 20 dead $G2D
      bytes=$(wc -c < /tmp/g2d) got=$(sha256sum < /tmp/g2d | cut -c1-64) ms=$(kv "$l" ms)
      if [ "$got" = "$(kv "$l" sha256)" ] && [ "$bytes" = "$(kv "$l" bytes)" ]; then
        res PASS bp1-tcp-guest-to-dom0 "$bytes bytes, sha256 equal, $ms ms"
      else
        res FAIL bp1-tcp-guest-to-dom0 "dom0 received $bytes of $(kv "$l" bytes) bytes (sender: ms=$ms), sha256 $( [ "$got" = "$(kv "$l" sha256)" ] && echo equal || echo differs)"
      fi
      kill $G2D 2>/dev/null
    fi
    if wait_sync tcp-listen 60; then
      head -c $((8 * MiB + 999)) /dev/urandom > /tmp/d2g; want=$(sha256sum < /tmp/d2g | cut -c1-64)
      t=$(now); timeout 90 nc $GIP 5001 < /tmp/d2g; rc=$?; ms=$(( $(now) - t ))
      if wait_sync tcp-received 150; then
        l=$(gsync tcp-received)
        if [ "$(kv "$l" sha256)" = "$want" ]; then res PASS bp1-tcp-dom0-to-guest "$(kv "$l" bytes) bytes, sha256 equal, $ms ms"
        else res FAIL bp1-tcp-dom0-to-guest "guest received $(kv "$l" bytes) of $((8 * MiB + 999)) bytes (nc exit $rc after $ms ms)"; fi
      fi
    fi
    if wait_sync udp-sent 200; then
      wait_for 15 dead $UDP
      u=$(cat /tmp/udp-g2d)
      case "$u" in "valid=200 bad=0"*) res PASS bp1-udp-guest-to-dom0 "$u" ;; *) res FAIL bp1-udp-guest-to-dom0 "${u:-nothing received}" ;; esac
    fi
    if wait_sync udp-listen 60; then $RT udp-send $GIP 5004 200 >/dev/null; fi
    wait_sync done 90
    guest_results
    s=$(bp_shell pv:show bp1/vbd/51712); echo "$s" > $OUT/pv-show-bp1-vbd.txt
    bp_shell pv:show bp1/vif/0 > $OUT/pv-show-bp1-vif.txt
    bp_shell pv:devices > $OUT/pv-devices-bp1.txt
    f=$(echo "$s" | sed -n 's/.*f_req = //p' | awk '{s += $1} END {print s + 0}')
    d=$(echo "$s" | sed -n 's/.*ds_req = //p' | awk '{s += $1} END {print s + 0}')
    e=$(echo "$s" | sed -n 's/.*errors = //p' | awk '{s += $1} END {print s + 0}')
    [ "$f" -gt 0 ] && res PASS bp1-dom0-flush-count "Backplane answered $f FLUSH requests (pv:show f_req)" \
                   || res FAIL bp1-dom0-flush-count "pv:show f_req=$f"
    [ "$d" -gt 0 ] && res PASS bp1-dom0-discard-count "Backplane answered $d DISCARD requests (pv:show ds_req), errors=$e" \
                   || res FAIL bp1-dom0-discard-count "pv:show ds_req=$d"
  fi
  guest_destroy

  # ---- guest 2: queues=2, ring order 4, a clamped request ----------------------------------------
  step "creating guest bp2 (queues=2, max-ring-page-order=4, feature-max-indirect-segments=256 against 'vbd@bp2 ... max=16')"
  if guest_create bp2 feature bp "vif:multi-queue-max-queues=2 vbd:max-ring-page-order=4 vbd:feature-max-indirect-segments=256"; then
    check "$(fc $VIFBE multi-queue-max-queues)" "accepted 2" bp2-fc-queues "feature-control/multi-queue-max-queues: status value"
    check "$(nqueues)/$(xsr $VIFFE/multi-queue-num-queues)" "2/2" bp2-netfront-queues "netfront queues (queue-N dirs / multi-queue-num-queues)"
    check "$(fc $VBDBE max-ring-page-order)" "accepted 4" bp2-fc-ring-order "feature-control/max-ring-page-order: status value"
    check "$(ringorder)" 4 bp2-blkfront-ring-order "blkfront ring-page-order (refs of queue 0: $(ringrefs| wc -w) ring-refN)"
    check "$(fc $VBDBE feature-max-indirect-segments) $(xsr $VBDBE/feature-max-indirect-segments)" "clamped 16 16" bp2-fc-clamped \
      "feature-control/feature-max-indirect-segments status value, published (reason: $(xsr $VBDBE/feature-control/feature-max-indirect-segments/reason); request kept: $(xsr $VBDBE/request-feature-max-indirect-segments))"
    if wait_sync info 90; then
      l=$(gsync info)
      check "$(kv "$l" net-queues)" 2 bp2-guest-net-queues "guest /sys/class/net/eth0/queues tx-*"
      check "$(kv "$l" blk-max-segments)" 16 bp2-guest-max-segments "guest /sys/block/xvda/queue/max_segments after the clamp (Linux default 32)"
    fi
    wait_sync done 60
    guest_results
  fi
  bp_shell pv:devices > $OUT/pv-devices-bp2.txt
  guest_destroy

  # ---- guest 3: Backplane restarted under a running guest ---------------------------------------
  # kill -9 (BP3_KILLS times: the moment a kill finds responses written and not yet published is
  # short), SIGTERM and start, a standby start (the successor up before the predecessor stops),
  # and an update of the blkback and netback bundles inside the running instance
  step "creating guest bp3 (reattach): block and TCP loops while Backplane is killed with -9 ${BP3_KILLS:=3} times, stopped and started, replaced by a standby, and its blkback and netback updated"
  REPLAYED=0 REPLAYS="" PAUSES=""; : > /tmp/cases
  if guest_create bp3 reattach bp ""; then
    if wait_sync loop-started 240; then
      sleep 5
      k=1
      while wants kill9 && [ $k -le "$BP3_KILLS" ]; do
        # kill -9: nothing handed over; the next start finds both devices Connected, recorded, owner dead
        pause_mark; tap_watch
        kill -KILL "$BPPID"; wait "$BPPID" 2>/dev/null
        cat /tmp/bp.out >> $OUT/backplane-stdout.log; log_since "$BP_LOG0" >> $OUT/backplane.log
        BPPID=""
        check "$(bp3_states)" "4/4 4/4" bp3-kill9-$k-states "vif and vbd state (backend/frontend) with Backplane killed"
        check "$(ls $ST/devices/vbd/$D/51712 2>/dev/null | grep -c '\.requests$')" 2 bp3-kill9-$k-mirrors \
          "the vbd's request mirrors (2 queues) the killed process left in $ST/devices, for its successor (all: $(cd $ST/devices 2>/dev/null && ls */*/*/*.requests | tr '\n' ' '))"
        reattach_start kill9-$k || break
        pause_report kill9-$k
        sleep $((1 + k * 2))   # another moment of the loop for the next kill
        k=$((k + 1))
      done
      wants kill9 && res INFO bp3-mirror "requests a killed backend had taken and not answered, served again from the request mirror: $REPLAYED (per restart:${REPLAYS:- none}; how many a kill finds is chance)"

      if wants sigterm; then
        pause_mark; tap_watch
        if bp_stop; then res PASS bp3-sigterm "Backplane stopped on SIGTERM under the running guest"; else res FAIL bp3-sigterm "still running 90 s after SIGTERM"; fi
        check "$(log_since "$BP_LOG0" | grep -c 'handed over.*the frontend stays Connected')" 2 bp3-handed-over "devices handed over on SIGTERM (keepDevices)"
        check "$(bp3_states)" "4/4 4/4" bp3-sigterm-states "vif and vbd state (backend/frontend) with Backplane stopped"
        before=$REPLAYED
        reattach_start sigterm
        check "$((REPLAYED - before))" 0 bp3-sigterm-no-replay "requests served again after a graceful handover"
        pause_report sigterm
        sleep 5
      fi

      if wants standby; then standby_case standby TERM; fi
      if wants standby-kill9; then standby_case standby-kill9 KILL; fi

      if wants update; then
        # update of the blkback and then the netback bundle in the running instance: the old
        # driver hands its device over, the new revision's driver adopts it
        for b in blkback netback; do
          id=$(bp_shell felix:lb -s | tr '|' ' ' | awk -v b="$b" '$0 ~ "[.-]" b "[ (]" {print $1; exit}')
          if [ -z "$id" ]; then res FAIL bp3-update-$b "no $b bundle in felix:lb -s"; continue; fi
          m=$(log_lines); pause_mark; started=$(now)
          [ $b = netback ] && tap_watch
          u=$(bp_shell felix:update "$id")
          [ -n "$u" ] && res FAIL bp3-update-$b "felix:update $id: $u"
          one_adoption() { [ "$(adoptions "$m" | grep -c .)" -ge 1 ]; }
          wait_for 90 one_adoption
          a=$(adoptions "$m")
          check "$(echo "$a" | grep -c .)" 1 bp3-update-$b "device re-attached by the updated bundle $(( $(now) - started )) ms after felix:update $id (the shell client's start included): $(echo "$a" | tr '\n' '|')"
          h=$(log_since "$m" | grep -o '[0-9]*/v[a-z]*/[0-9]*: handed over.*' | head -1)
          [ -n "$h" ] && step "update $b: $h"
          # where the pause goes: the old driver's handover, Felix's stop, update and start of the
          # bundle (stopped .. serving), the new driver's probe and re-attach, with the log's times
          step "update $b timeline: $(log_since "$m" | grep -a -E 'handed over|backend: stopped|backend: serving|new v[a-z]+ device|probed:|interface ready|re-attached|revision loaded' | log_times | tr '\n' '|')"
          check "$(bp3_states)" "4/4 4/4" "bp3-update-$b-states" "vif and vbd state (backend/frontend) after the update of $b"
          pause_report update-$b
          sleep 3
        done
      fi

      echo stop | timeout 10 nc $GIP 5005 >/dev/null 2>&1
      if wait_sync reattach-done 300; then
        l=$(gsync reattach-done)
        res PASS bp3-pause "the guest's longest block round $(kv "$l" maxgap) ms over $(kv "$l" rounds) rounds (mean $(kv "$l" mean) ms) across every case; per case:$PAUSES; the longest wait for a 4 KiB read per case (ms):$STALLS"
        l=$(gsync tcp-sent)
        wait_for 30 dead $G2D
        bytes=$(wc -c < /tmp/g2d) got=$(sha256sum < /tmp/g2d | cut -c1-64)
        if [ "$got" = "$(kv "$l" sha256)" ] && [ "$bytes" = "$(kv "$l" bytes)" ]; then
          res PASS bp3-tcp-stream "$bytes bytes streamed guest -> dom0 across every case, sha256 equal; longest stall per case (ms): $(tcp_stalls)"
        else
          res FAIL bp3-tcp-stream "dom0 received $bytes of $(kv "$l" bytes) bytes, sha256 $( [ "$got" = "$(kv "$l" sha256)" ] && echo equal || echo differs)"
        fi
        cp /tmp/g2d-gaps $OUT/bp3-tcp-gaps.txt
      fi
    fi
    kill $TAPW 2>/dev/null
    guest_results
    cp $ST/backplane.log $OUT/backplane-bp3.log 2>/dev/null
  fi
  guest_destroy
  if bp_stop; then res PASS bp-stop "Backplane stopped on SIGTERM"; else res FAIL bp-stop "Backplane still running 60 s after SIGTERM"; fi
  grep -a -i -E 'memory sink|falls back|WARN|ERROR' $OUT/backplane.log 2>/dev/null | head -20 > $OUT/backplane-warnings.txt
fi

if [ "$MODE" = bench ]; then
  : > $OUT/bench.txt; : > $OUT/passes.txt
  step "dom0: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), $($RT syscost)"
  # dom0's page cache around a run (vm-BACKEND-RUN.txt): the image is on tmpfs, so the guest's
  # writes should dirty no page that writeback, and balance_dirty_pages' throttling, counts
  # (nr_dirtied, nr_written, Dirty stay put) on either side; the kernel's loop device says
  # whether it does direct I/O
  vm_snap() { grep -E '^(nr_dirtied|nr_written|nr_dirty|nr_writeback|nr_shmem|pgmajfault|pgfault|pgalloc_normal|pgalloc_dma32|nr_dirty_threshold|nr_dirty_background_threshold) ' /proc/vmstat
              grep -E '^(Dirty|Writeback|Shmem|MemFree|Cached):' /proc/meminfo | tr -d ':'; }
  vm_delta() { awk 'NR == FNR { a[$1] = $2; next } { printf "%s %s -> %s (%+d)\n", $1, a[$1], $2, $2 - a[$1] }' \
                 /tmp/vm-before /tmp/vm-after > $OUT/vm-$1-$2.txt
               [ -e /sys/block/loop0/loop/dio ] && echo "loop0 dio $(cat /sys/block/loop0/loop/dio)" >> $OUT/vm-$1-$2.txt
               step "$1 run $2, dom0 page cache: $(grep -E '^(nr_dirtied|nr_written|Dirty|Shmem|loop0) ' $OUT/vm-$1-$2.txt | tr '\n' ';')"; }
  bench_one() { # RUN BACKEND (bp, bpb: Backplane with the --java-opts-b options, kernel)
    r=$1 b=$2 be=$2
    if [ $b != kernel ]; then
      be=bp; opts="$BP_JAVA_OPTS"
      [ $b = bpb ] && BP_JAVA_OPTS="$BP_JAVA_OPTS_B"
      bp_start; ok=$?; BP_JAVA_OPTS="$opts"
      step "$b: $BP_STARTED"
      [ $ok = 0 ] || { res FAIL bench-$r-$b-start "$BP_STARTED"; return; }
      leak_baseline
    else
      for m in $(cat /modules/kernel-backends); do insmod /modules/$m.ko || res FAIL bench-insmod "$m"; done
    fi
    step "bench run $r: $b"
    NAME=bench
    vm_snap > /tmp/vm-before
    if guest_create bench bench $be ""; then
      echo "$b $r connect-ms $CONNECT_MS" >> $OUT/bench.txt
      wait_sync net-up 120
      if wait_sync tcp-listen 200; then
        wait_for 20 dead $G2D
        g=$(wc -c < /tmp/g2d); [ "$g" = $((16 * MiB)) ] || echo "$b $r tcp-guest-to-dom0-bytes-short $g" >> $OUT/bench.txt
        head -c $((16 * MiB)) /dev/zero > /tmp/d2g
        t=$(now); timeout 120 nc $GIP 5001 < /tmp/d2g; rc=$?; ms=$(( $(now) - t ))
        wait_sync tcp-received 150
        got=$(kv "$(gsync tcp-received)" bytes)
        if [ $rc = 0 ] && [ "$got" = $((16 * MiB)) ]; then
          echo "$b $r tcp-dom0-to-guest-MiBps $(awk -v t=$ms 'BEGIN { printf "%.2f", 16 / ((t + 0.5) / 1000) }')" >> $OUT/bench.txt
        else
          echo "$b $r tcp-dom0-to-guest-MiBps fail" >> $OUT/bench.txt
        fi
      fi
      p=$(ping -c 20 -i 0.2 $GIP 2>/dev/null | sed -n 's/.*min\/avg\/max = [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
      echo "$b $r ping-dom0-to-guest-ms ${p:-fail}" >> $OUT/bench.txt
      wait_sync done 120
      vm_snap > /tmp/vm-after; vm_delta $b $r
      [ $be = bp ] && { bp_shell pv:show bench/vbd/51712 > $OUT/pv-show-bench-vbd-$b-$r.txt
                        bp_shell pv:show bench/vif/0 > $OUT/pv-show-bench-vif-$b-$r.txt; }
      glog | grep -a -o 'XENBENCH [^ ]* [^ ]*' | while read -r _ k v; do echo "$b $r $k $v" >> $OUT/bench.txt; done
      glog | grep -a -o 'XENPASS .*' | tr -d '\r' | sed "s/^XENPASS /$b $r /" >> $OUT/passes.txt
      cp "/var/log/xen/console/guest-bench.log" "$OUT/guest-bench-$b-$r.log"
    fi
    guest_destroy
    if [ $be = bp ]; then bp_stop; else
      losetup -d /dev/loop0 2>/dev/null
      for m in xen_netback xen_blkback loop; do rmmod $m || res FAIL bench-rmmod "$m"; done
    fi
    grep "^$b $r " $OUT/bench.txt | sed 's/^/XENBENCH /'
  }
  r=1
  while [ $r -le "$RUNS" ]; do
    # alternate which goes first
    if [ "$BACKENDS" != both ]; then bench_one $r "$BACKENDS"
    elif [ "$BP_B" = 1 ]; then
      if [ $((r % 2)) = 1 ]; then bench_one $r bp; bench_one $r kernel; bench_one $r bpb; else bench_one $r bpb; bench_one $r kernel; bench_one $r bp; fi
    elif [ $((r % 2)) = 1 ]; then bench_one $r bp; bench_one $r kernel; else bench_one $r kernel; bench_one $r bp; fi
    r=$((r + 1))
  done
  res PASS bench-done "$RUNS runs each; figures in out/bench.txt"
fi
xl list > $OUT/xl-list-end.txt 2>&1
echo "XENTEST END" >> "$RES"; echo "XENTEST END"
