# The test plan, run by the guest's init as root in the login session's scope, on a machine laid
# out as systemd lays out pure cgroup v2 (see init). Each result is one line on the console:
#
#   NSLAB-VM: <layout> <who>: <what> PASS|FAIL|SKIP (<seconds> s)
#
# followed, for a failure or a skip (and for the doctor's report, always), by what the command
# printed, indented by four spaces. SKIP: the doctor said the lesson cannot run for this user,
# with a reason and a fix, and nslab check agreed. The host's run.sh collects these lines;
# tests/vm/CMakeLists.txt makes one ctest test of each.
#
# Nothing here waits a fixed time for something to happen: every wait polls for its condition
# and gives up after a bound. Every command runs under timeout(1), so one that hangs costs its
# limit (NSLAB_VM_COMMAND_TIMEOUT seconds) and the plan goes on.

. /nslab-vm/run.conf
layout=pure-v2
root_who="$layout root"
student_who="$layout student (delegated scope)"
cg=/sys/fs/cgroup
service=$cg/user.slice/user-1000.slice/user@1000.service
student_scope=$service/app.slice/nslab-test.scope
limit=${NSLAB_VM_COMMAND_TIMEOUT:-300}
# nslab check's own wait for each command (run.sh raises it under emulation).
check_timeout=${NSLAB_VM_CHECK_TIMEOUT:+--timeout $NSLAB_VM_CHECK_TIMEOUT}
work=/run/nslab-vm
mkdir -p $work
cd /root
plan_start=$(date +%s)
[ -z "$check_timeout" ] || echo "NSLAB-VM: note: nslab check runs with $check_timeout (emulation is slow)"

# The lessons, found as nslab finds them: NN-name.md; their numbers without the leading zero.
numbers=$(ls "$NSLAB_LESSONS" | sed -n 's/^\([0-9][0-9]\)-.*\.md$/\1/p' | sed 's/^0\([0-9]\)$/\1/')

# --- helpers --------------------------------------------------------------------------------

# run OUT COMMAND...: COMMAND under the time limit, stdin empty, its output in OUT; its status.
run() {
  _out=$1
  shift
  _t0=$(date +%s)
  timeout -k 10 "$limit" "$@" < /dev/null > "$_out" 2>&1
  _status=$?
  seconds=$(($(date +%s) - _t0))
  if [ $_status = 124 ] || [ $_status = 137 ]; then
    echo "(still running after $limit s: killed)" >> "$_out"
  fi
  return $_status
}

# report NAME PASS|FAIL|SKIP FILE [shown]: the result line; FILE indented under it when the
# result is not PASS, or always with "shown". Uses $seconds of the last run.
report() {
  echo "NSLAB-VM: $1 $2 (${seconds:-0} s)"
  if [ "$2" != PASS ] || [ "${4:-}" = shown ]; then
    # The end is what explains a failure; a long output keeps its last 200 lines.
    _lines=$(wc -l < "$3")
    [ "$_lines" -le 200 ] || echo "    ... ($((_lines - 200)) lines before these)"
    tail -n 200 "$3" | sed 's/^/    /'
  fi
  seconds=0
}

pass_if() {  # STATUS: PASS when 0, else FAIL
  if [ "$1" = 0 ]; then echo PASS; else echo FAIL; fi
}

# The doctor's verdict on lesson N in its report: works, rootless, wont, or missing.
# The report lists each lesson as "  N  Title   verdict", the verdict being "works",
# "works rootless (via a user namespace)" (which may wrap) or "won't", followed by indented
# "because ..." and "fix: ..." lines (which wrap too).
verdict() {  # REPORT N
  awk -v n="$2" -v wont="won't" '
    /^Lessons$/ { on = 1; next }
    on && /^  [0-9]+  / && $1 == n {
      found = 1
      if (index($0, wont)) print "wont"
      else if (index($0, "works rootless")) print "rootless"
      else if ($0 ~ / works$/) print "works"
      else print "unknown: " $0
      exit
    }
    END { if (!found) print "missing" }' "$1"
}

# The doctor's reasons for lesson N: the lines under its row, up to the next row or blank line.
reasons() {  # REPORT N
  awk -v n="$2" '
    /^Lessons$/ { on = 1; next }
    on && /^  [0-9]+  / { row = ($1 == n); next }
    on && /^$/ { row = 0 }
    row { print }' "$1"
}

# --- the guest itself -----------------------------------------------------------------------

# The layout is the one init meant to build: checked, and shown in the log.
{
  echo "mounts of type cgroup or cgroup2 (only cgroup2 at /sys/fs/cgroup is expected):"
  awk '$0 ~ / - cgroup2? / { print "  " $5 " " $(NF-2) " " $NF }' /proc/self/mountinfo
  echo "/ is $(awk '$5 == "/" { print ($7 ~ /^shared:/ ? "shared" : "not shared") }' /proc/self/mountinfo)"
  echo "PID 1 in $(sed -n 's/^0:://p' /proc/1/cgroup)"
  echo "root's commands in $(sed -n 's/^0:://p' /proc/self/cgroup)"
  echo "the student's commands: $(as-student sh -c 'echo "uid $(id -u) in $(sed -n "s/^0:://p" /proc/self/cgroup)"')"
  echo "user@1000.service owned by: $(cd $service && stat -c '%n=%u' . cgroup.procs cgroup.threads cgroup.subtree_control memory.oom.group | tr '\n' ' ')"
  echo "cgroups (processes, enabled controllers):"
  find $cg -type d | sort | while read -r dir; do
    echo "  ${dir#$cg}/ ($(wc -l < "$dir/cgroup.procs"), $(cat "$dir/cgroup.subtree_control"))"
  done
} > $work/layout 2>&1
status=0
grep -q '^  /sys/fs/cgroup cgroup2 .*nsdelegate' $work/layout &&
  grep -q '^  /sys/fs/cgroup cgroup2 .*memory_recursiveprot' $work/layout &&
  [ "$(awk '$0 ~ / - cgroup2? /' /proc/self/mountinfo | wc -l)" = 1 ] &&
  grep -qx '/ is shared' $work/layout &&
  grep -qx 'PID 1 in /init.scope' $work/layout &&
  grep -qx "root's commands in /user.slice/user-1000.slice/session-1.scope" $work/layout &&
  [ "$(wc -l < $cg/user.slice/user-1000.slice/session-1.scope/cgroup.procs)" -ge 2 ] &&
  grep -qx "the student's commands: uid 1000 in ${student_scope#$cg}" $work/layout &&
  grep -q '^user@1000.service owned by: \.=1000 cgroup.procs=1000 cgroup.threads=1000 cgroup.subtree_control=1000 memory.oom.group=0 $' $work/layout ||
  status=1
report "$layout guest: systemd's cgroup layout" "$(pass_if $status)" $work/layout shown

# The kernel modules: each one init loaded is there (ss would fall back to /proc/net without
# the socket-diagnostics ones, and pass unnoticed), a veth pair can be made, overlay is known.
not_loaded=""
for module in $(cat /lib/modules/order); do
  [ -d /sys/module/$module ] || not_loaded="$not_loaded $module"
done
{
  if [ -n "$not_loaded" ]; then echo "not loaded:$not_loaded"; false; fi &&
    echo "loaded: $(cat /lib/modules/order)" &&
    ip link add nslab-vm-a type veth peer name nslab-vm-b &&
    ip -brief link show type veth &&
    ip link delete nslab-vm-a &&
    grep -w overlay /proc/filesystems &&
    ss -Hltn && ss -Hlx > /dev/null && echo "ss: fine"
} > $work/modules 2>&1
report "$layout guest: veth, overlay and ss" "$(pass_if $?)" $work/modules

# What a clean machine has mounted: compared at the end.
awk '{ print $5, $9 }' /proc/self/mountinfo | sort > $work/mounts-before.tmp
mv $work/mounts-before.tmp $work/mounts-before

# --- one user's doctor, lessons and checks --------------------------------------------------

# lessons_as WHO RUNNER...: the doctor (its report shown in the log), then nslab check N for
# every lesson, then whether the doctor's verdicts agree with what passed.
lessons_as() {
  who=$1
  shift
  tag=$(echo "$who" | tr -c 'a-z0-9\n' '-')
  doctor=$work/doctor-$tag
  run $doctor "$@" nslab doctor --color never
  doctor_status=$?
  # The doctor's status is 1 when a lesson cannot run; either way it must judge every lesson.
  status=0
  [ $doctor_status -le 1 ] || status=1
  for n in $numbers; do
    [ "$(verdict $doctor $n)" != missing ] || status=1
  done
  report "$who: nslab doctor" "$(pass_if $status)" $doctor shown

  : > $work/agree
  for n in $numbers; do
    v=$(verdict $doctor $n)
    run $work/check "$@" nslab check $check_timeout $n
    check_status=$?
    case "$v:$check_status" in
      works:0 | rootless:0) outcome=PASS ;;
      works:* | rootless:*)
        outcome=FAIL
        echo "lesson $n: the doctor says it $v, but nslab check $n failed (status $check_status)" >> $work/agree
        ;;
      wont:0)
        outcome=PASS
        echo "lesson $n: the doctor says it won't run, but nslab check $n passed" >> $work/agree
        ;;
      wont:*)
        # Not runnable for this user, as the doctor said: it must say why, and what to do.
        reasons $doctor $n > $work/reasons
        if grep -q 'because ' $work/reasons && grep -q 'fix: ' $work/reasons; then
          outcome=SKIP
        else
          outcome=FAIL
          echo "lesson $n: the doctor says it won't run, without a reason and a fix" >> $work/agree
        fi
        { echo "the doctor says lesson $n won't run for this user:"; cat $work/reasons
          echo "nslab check $n (status $check_status):"; cat $work/check; } > $work/check.skip
        mv $work/check.skip $work/check
        ;;
      *)
        outcome=FAIL
        echo "lesson $n: the doctor gave no verdict ($v); nslab check $n: status $check_status" >> $work/agree
        ;;
    esac
    report "$who: nslab check $n" $outcome $work/check
  done
  [ -s $work/agree ] && status=1 || status=0
  report "$who: doctor agrees with check" "$(pass_if $status)" $work/agree
}

# As root, from the login session's scope (shared with the session's other process), as
# `sudo nslab` runs on a laptop.
lessons_as "$root_who"
run $work/lessons nslab lessons
status=$?
for n in $numbers; do
  grep -Eq "^ *$n  " $work/lessons || { status=1; echo "(lesson $n is not listed)" >> $work/lessons; }
done
report "$root_who: nslab lessons" "$(pass_if $status)" $work/lessons

# As root from the root cgroup, where a process may live beside enabled controllers (the one
# cgroup exempt from "no internal processes"): the cgroup lesson only.
if [ -n "$(ls "$NSLAB_LESSONS"/05-*.md 2>/dev/null)" ]; then
  run $work/check sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs && exec "$@"' sh \
    nslab check $check_timeout 5
  report "$root_who (root cgroup): nslab check 5" "$(pass_if $?)" $work/check
fi

# As the student, in the scope it made in its delegated user@1000.service.
lessons_as "$student_who" as-student

# --- limits, read on the host's side while a box runs ---------------------------------------

# limits WHO RUNNER... -- NSLAB_RUN_FLAGS...: a box that waits, its cgroup found from the host
# through /proc/BOX_PID/cgroup (the box's pid from nslab ps), its limits read there.
limits() {
  who=$1
  shift
  runner_cmd=""
  while [ "$1" != -- ]; do runner_cmd="$runner_cmd $1"; shift; done
  shift
  out=$work/limits
  : > $out
  t0=$(date +%s)
  # The runner's pid is $! itself: as-student and the rest exec each other.
  $runner_cmd nslab run "$@" --pids 20 --memory 32M --cpus 0.5 -c 'sleep 300' \
    < /dev/null > $work/limits-run 2>&1 &
  runner=$!
  box=""
  i=0
  while [ -z "$box" ] && [ $i -lt 300 ] && kill -0 $runner 2> /dev/null; do
    box=$(nslab ps 2> /dev/null | awk -v r=$runner '$3 == r { print $2 }')
    [ -n "$box" ] || sleep 0.1
    i=$((i + 1))
  done
  status=1
  if [ -n "$box" ]; then
    path=$(sed -n 's/^0:://p' /proc/$box/cgroup)
    dir=$cg$path
    {
      echo "box $box of runner $runner, in the cgroup $path"
      echo "pids.max $(cat $dir/pids.max)"
      echo "memory.max $(cat $dir/memory.max)"
      echo "cpu.max $(cat $dir/cpu.max)"
    } >> $out 2>&1
    grep -qx 'pids.max 20' $out && grep -qx 'memory.max 33554432' $out &&
      grep -qx 'cpu.max 50000 100000' $out && status=0
  else
    echo "no box of runner $runner appeared in nslab ps within 30 s" >> $out
    nslab ps >> $out 2>&1
  fi
  # The end of the box: the runner is told to stop (it passes SIGTERM on to the box); killed
  # if it does not end.
  kill -TERM $runner 2> /dev/null
  i=0
  while kill -0 $runner 2> /dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 $runner 2> /dev/null; then
    echo "the runner did not end within 20 s of SIGTERM: killed" >> $out
    kill -KILL $runner
    status=1
  fi
  wait $runner
  echo "the runner's status: $?; it printed:" >> $out
  sed 's/^/  /' $work/limits-run >> $out
  seconds=$(($(date +%s) - t0))
  report "$who: limits seen from the host" "$(pass_if $status)" $out
}
limits "$root_who" --
limits "$student_who" as-student -- --user --map-root

# --- nothing left -----------------------------------------------------------------------------

# leftovers OUT WAIT: what nslab may leave on a machine, listed in OUT (empty when there is
# none): a cgroup of nslab's (the student's own nslab-test.scope aside), a veth, a mount the
# machine did not have before the plan, a tinysh or nslab process, an nslab file in /tmp.
# A veth goes with its network namespace, which the kernel frees in the background: one is
# waited for, up to WAIT seconds.
leftovers() {
  : > $1
  deadline=$(($(date +%s) + $2))
  while [ -n "$(ip -o link show type veth)" ] && [ "$(date +%s)" -lt $deadline ]; do sleep 0.1; done
  ip -brief link show type veth | sed 's/^/veth left: /' >> $1
  find $cg -type d -name 'nslab*' ! -path "$student_scope" | sed 's/^/cgroup left: /' >> $1
  awk '{ print $5, $9 }' /proc/self/mountinfo | sort > $work/mounts-after
  grep -vxF -f $work/mounts-before $work/mounts-after | sed 's/^/mount added: /' >> $1
  grep -vxF -f $work/mounts-after $work/mounts-before | sed 's/^/mount gone: /' >> $1
  # Processes by name and by program (a box's tinysh runs from a sealed copy, /memfd:...).
  ps -e -o pid=,comm=,args= | awk '$2 ~ /tinysh|nslab/ || $3 ~ /tinysh|(^|\/)nslab$/' |
    sed 's/^ */process left: /' >> $1
  find /proc -mindepth 2 -maxdepth 2 -name exe \( -lname '*tinysh*' -o -lname '*/nslab' \) \
    -printf 'process left: %h runs %l\n' 2> /dev/null >> $1
  ls -d /tmp/nslab* 2> /dev/null | sed 's/^/file left: /' >> $1
}

t0=$(date +%s)
leftovers $work/left 10
seconds=$(($(date +%s) - t0))
[ -s $work/left ] && status=1 || status=0
report "$layout: nothing left" "$(pass_if $status)" $work/left

# The control: one of each kind left behind on purpose must be seen, so the check above cannot
# pass by looking in the wrong place. Then it is all taken away again.
t0=$(date +%s)
mkdir $cg/nslab-left-on-purpose
ip link add nslab-left0 type veth peer name nslab-left1
mount -t tmpfs left-on-purpose /mnt
cp /usr/local/bin/tinysh /run/tinysh
/run/tinysh -c 'sleep 300' < /dev/null > /dev/null 2>&1 &
control=$!
touch /tmp/nslab-left-on-purpose
leftovers $work/control 0
status=0
for kind in "veth left: nslab-left" "cgroup left: $cg/nslab-left-on-purpose" "mount added: /mnt tmpfs" \
            "process left: /proc/$control runs /run/tinysh" "file left: /tmp/nslab-left-on-purpose"; do
  grep -q "^$kind" $work/control || { status=1; echo "(not seen: $kind)" >> $work/control; }
done
kill $control
wait $control
umount /mnt
ip link delete nslab-left0
rmdir $cg/nslab-left-on-purpose
rm -f /run/tinysh /tmp/nslab-left-on-purpose
seconds=$(($(date +%s) - t0))
report "$layout: nothing left, its control sees what was left on purpose" "$(pass_if $status)" $work/control

echo "NSLAB-VM: plan took $(($(date +%s) - plan_start)) s"
