#!/bin/sh
# The guest's init: a machine laid out as systemd lays out Debian 12, Ubuntu 22.04+ and Fedora
# (cgroup2 alone at /sys/fs/cgroup, mounted with nsdelegate,memory_recursiveprot; / shared; a
# login session scope owned by root and shared with another process; user@1000.service
# delegated to the student as Delegate=yes does, with a scope the student made inside it, as
# `systemd-run --user --scope` makes one), then every lesson as root and as the student, with
# nslab doctor's verdicts checked against what passes. Each result is one line on the console:
#   NSLAB-VM: <who>: <what> PASS|FAIL      (a failure's output follows, indented)
#
# Why not systemd itself: a busybox init that builds the same tree by hand needs nothing but
# Debian's kernel packages, boots in seconds under software emulation, and does the same thing
# on every run. What it reproduces is what nslab meets of systemd: the cgroup2 mount and its
# options, the shared /, the session scope, the delegation of user@UID.service (ownership of the
# directory and of cgroup.procs, cgroup.threads and cgroup.subtree_control) and the student's
# own scope below it.
export PATH=/usr/bin:/bin
if [ ! -e /stage2 ]; then
  # pivot_root(2) refuses the initramfs (rootfs) as the old root, and lesson 2 pivots: move
  # everything to a tmpfs first and make that the root.
  mount -t proc proc /proc
  mkdir -p /newroot
  mount -t tmpfs -o mode=0755 root /newroot
  for entry in /*; do
    case "$entry" in /proc|/newroot|/sys|/dev) continue ;; esac
    cp -a "$entry" /newroot/
  done
  mkdir -p /newroot/proc /newroot/sys /newroot/dev
  touch /newroot/stage2
  umount /proc
  exec switch_root /newroot /init
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount --make-rshared /
hostname nslab-guest
ip link set lo up
for module in $(cat /lib/modules/order); do insmod "/lib/modules/$module.ko" || echo "insmod $module failed"; done

cg=/sys/fs/cgroup
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $cg
controllers="+cpu +memory +pids"
echo "$controllers" > $cg/cgroup.subtree_control
mkdir $cg/init.scope $cg/system.slice $cg/user.slice
echo $$ > $cg/init.scope/cgroup.procs
echo "$controllers" > $cg/user.slice/cgroup.subtree_control
slice=$cg/user.slice/user-1000.slice
mkdir $slice
echo "$controllers" > $slice/cgroup.subtree_control
session=$slice/session-1.scope
mkdir $session
sleep 100000 &
echo $! > $session/cgroup.procs  # the login session's other process
service=$slice/user@1000.service
mkdir $service $service/init.scope
chown 1000:1000 $service $service/cgroup.procs $service/cgroup.threads $service/cgroup.subtree_control
chown 1000:1000 $service/init.scope $service/init.scope/cgroup.procs $service/init.scope/cgroup.threads

kernel=$(uname -r)
echo "NSLAB-VM: kernel $kernel"
cd /nslab
lessons=/nslab/lessons
export NSLAB_LESSONS=$lessons TERM=xterm

# As root, in the login session's scope: the way `sudo nslab` runs on a laptop. (Scripts, not
# shell functions, so that timeout(1) can run them and $! is the program's own pid.)
cat > /as-root <<AS_ROOT
#!/bin/sh
echo \$\$ > $session/cgroup.procs && exec "\$@"
AS_ROOT
# As the student, in a scope of their own inside user@1000.service: the user's manager runs in
# its init.scope, and the student moves into a scope it made, as systemd-run --user --scope does.
cat > /as-student <<AS_STUDENT
#!/bin/sh
echo \$\$ > $service/init.scope/cgroup.procs &&
  exec /usr/bin/setpriv --reuid 1000 --regid 1000 --clear-groups \\
    env HOME=/home/student USER=student LOGNAME=student /student-scope "\$@"
AS_STUDENT
cat > /student-scope <<'STUDENT'
#!/bin/sh
service=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service
mkdir -p $service/app.slice/run-r1.scope
echo "+cpu +memory +pids" > $service/cgroup.subtree_control
echo "+cpu +memory +pids" > $service/app.slice/cgroup.subtree_control
echo $$ > $service/app.slice/run-r1.scope/cgroup.procs || exit 1
exec "$@"
STUDENT
chmod 755 /as-root /as-student /student-scope

result() {  # NAME STATUS OUTPUT_FILE
  if [ "$2" = 0 ]; then
    echo "NSLAB-VM: $1 PASS"
  else
    echo "NSLAB-VM: $1 FAIL"
    sed 's/^/    /' "$3" | tail -n 80
  fi
}
run() {  # NAME COMMAND...: one result, from the command's status (10 minutes at most)
  name=$1
  shift
  timeout 600 "$@" > /tmp/out 2>&1
  result "$name" $? /tmp/out
}

numbers=$(ls $lessons | sed -n 's/^\([0-9][0-9]\)-.*\.md$/\1/p' | sed 's/^0//')
mounts_before=$(wc -l < /proc/self/mountinfo)

# The doctor's verdict on lesson N, from its report: works | rootless | wont.
verdict() {  # REPORT N
  line=$(grep -E "^  $2  " "$1" | head -n 1)
  case "$line" in
    *"won't"*) echo wont ;;
    *"works rootless"*) echo rootless ;;
    *works*) echo works ;;
    *) echo missing ;;
  esac
}
# The doctor's reasons for lesson N: its "because" and "fix" lines, up to the next row.
reasons() {  # REPORT N
  awk -v n="$2" '$0 ~ "^  " n "  " {on=1; next} on && /^  [0-9]+  / {on=0} on' "$1"
}

for who in root student; do
  as=/as-$who
  $as ./nslab doctor --color never > /tmp/doctor-$who 2>&1
  echo "NSLAB-VM: $who: doctor said"
  sed 's/^/    /' /tmp/doctor-$who
  agree=0
  : > /tmp/disagree-$who
  for n in $numbers; do
    v=$(verdict /tmp/doctor-$who $n)
    if [ $v = wont ]; then
      # Not run: the doctor must say why, and what would fix it.
      echo "NSLAB-VM: note: $who: lesson $n: the doctor says it cannot run for $who, and why"
      reasons /tmp/doctor-$who $n > /tmp/out
      grep -q because /tmp/out && grep -q 'fix:' /tmp/out
      status=$?
      result "$who: lesson $n" $status /tmp/out
      [ $status = 0 ] || agree=1
      continue
    fi
    timeout 600 $as ./nslab check --timeout 30 $n > /tmp/out 2>&1
    status=$?
    result "$who: lesson $n" $status /tmp/out
    if [ $status != 0 ] || [ $v = missing ]; then
      agree=1
      echo "lesson $n: the doctor said $v, nslab check exited $status" >> /tmp/disagree-$who
    fi
  done
  result "$who: doctor agrees with check" $agree /tmp/disagree-$who
done

# Limits written by nslab, read by the host while the box runs: as root, and as the student in
# the delegated scope.
limits() {  # WHO NSLAB_FLAGS...
  who=$1
  shift
  as=/as-$who
  : > /tmp/limits-$who
  $as ./nslab run "$@" --pids 20 --memory 32M --cpus 0.5 -c 'sleep 60' > /tmp/limits-run 2>&1 &
  runner=$!
  dir=""
  i=0
  while [ -z "$dir" ] && [ $i -lt 100 ]; do
    dir=$(find $cg -type d -name "nslab-box-*" 2>/dev/null | head -n 1)
    [ -n "$dir" ] && [ -n "$(cat $dir/cgroup.procs 2>/dev/null)" ] || dir=""
    i=$((i + 1))
    [ -n "$dir" ] || sleep 0.1
  done
  status=1
  if [ -n "$dir" ]; then
    {
      echo "box cgroup: $dir"
      echo "pids.max $(cat $dir/pids.max)"
      echo "memory.max $(cat $dir/memory.max)"
      echo "cpu.max $(cat $dir/cpu.max)"
    } >> /tmp/limits-$who
    grep -q '^pids.max 20$' /tmp/limits-$who && grep -q '^memory.max 33554432$' /tmp/limits-$who &&
      grep -q '^cpu.max 50000 100000$' /tmp/limits-$who
    status=$?
  else
    echo "no nslab-box- cgroup with a process appeared" >> /tmp/limits-$who
  fi
  kill -TERM $runner 2>/dev/null
  wait $runner
  cat /tmp/limits-run >> /tmp/limits-$who
  result "$who: limits seen from the host" $status /tmp/limits-$who
}
limits root --pid --mount
limits student --user --map-root --pid --mount

# Lesson 5's challenge makes a child cgroup: it must pass, and fail when left undone (its check
# must not pass by accident), with nsdelegate as systemd mounts cgroup2 and without it.
undone=/tmp/undone
mkdir -p $undone
awk '/^```solution/ {print; print "echo the challenge was left undone"; skip=1; next}
     skip && /^```/ {skip=0; print; next}
     skip {next}
     {print}' $lessons/05-*.md > $undone/05-cgroups.md
challenge() {  # LABEL
  timeout 600 /as-root ./nslab check --timeout 30 5 > /tmp/out 2>&1
  result "root: lesson 5 $1" $? /tmp/out
  timeout 600 /as-root ./nslab check --timeout 30 --dir $undone 5 > /tmp/out 2>&1
  status=$?
  [ $status = 1 ] && grep -q 'step "Challenge"' /tmp/out
  result "root: lesson 5 $1, challenge left undone, fails" $? /tmp/out
}
challenge "with nsdelegate"
# Remounted from the initial cgroup namespace, cgroup2 takes new options for every mount of it.
if mount -o remount,memory_recursiveprot cgroup2 $cg && ! grep -q nsdelegate /proc/self/mountinfo; then
  challenge "without nsdelegate"
else
  echo "NSLAB-VM: root: lesson 5 without nsdelegate FAIL"
  echo "    could not remount cgroup2 without nsdelegate"
fi
mount -o remount,nsdelegate,memory_recursiveprot cgroup2 $cg

# The one file a teacher hands out: nslab alone in a folder, no tinysh beside it, no lessons
# folder. It writes what it carries to /run/nslab (root) and ~/.cache/nslab (the student).
mkdir -p /alone && cp /nslab/nslab /alone/nslab && chmod 755 /alone
alone() {  # WHO LESSONS...
  who=$1
  shift
  (cd /alone && env -u NSLAB_LESSONS -u NSLAB_TINYSH timeout 600 /as-$who ./nslab check --timeout 30 "$@") \
    > /tmp/out 2>&1
  result "$who: the single nslab file" $? /tmp/out
}
alone root 1 4 5
alone student 1 4

# Nothing left: no cgroup of nslab's, no veth, no bridge, no mount, no tinysh. The kernel deletes a veth
# with its namespace a moment later, so that is polled for.
: > /tmp/left
i=0
while [ $i -lt 50 ] && [ -n "$(ip -o link show type veth 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
find $cg -name 'nslab*' >> /tmp/left
ip -o link show type veth >> /tmp/left
ip -o link show type bridge | grep nslab >> /tmp/left
ps -e -o pid=,comm= | grep -w tinysh >> /tmp/left
[ "$(wc -l < /proc/self/mountinfo)" = "$mounts_before" ] ||
  { echo "mounts: $mounts_before before, $(wc -l < /proc/self/mountinfo) after"; cat /proc/self/mountinfo; } >> /tmp/left
[ -s /tmp/left ]
[ $? = 0 ] && status=1 || status=0
result "nothing left" $status /tmp/left

echo "NSLAB-VM: done"
sync
poweroff -f
