#!/bin/sh
# Builds the guest's root as an initramfs: three gzip'd cpio archives laid end to end, which the
# kernel unpacks one after the other into the same root.
#
#   userland   busybox (the init's shell and the basic tools) and Debian's own programs the
#              lessons' host blocks and this test use, copied from this machine with every shared
#              library they load and the dynamic loader: `ps -p` (procps), `ip -brief` and `ss`
#              (iproute2), nsenter and setpriv (util-linux), GNU grep, find, stat, timeout, ...
#              which busybox lacks or does differently. /bin/sh is dash, as on Debian.
#              Cached in the kernel cache, keyed by this script and the host files it copies.
#   modules    the kernel's modules (from fetch-kernel.sh), cached next to the kernel.
#   this run   nslab and tinysh (stripped copies: the guest unpacks them under emulation), the
#              lessons, the init and the test plan, the users, and what to run (run.conf, and
#              a script of the developer's with --script).
#
# usage: make-initramfs.sh KERNEL_DIR NSLAB TINYSH LESSONS_DIR RUN_CONF [SCRIPT] > initramfs
# Works without root: every file is archived as root's (cpio -R 0:0) and the guest's init
# gives the student their home.
set -eu

kernel=$1 nslab=$2 tinysh=$3 lessons=$4 run_conf=$5 script=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
default_cache=/var/cache/nslab-vm
[ "$(id -u)" = 0 ] || default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/nslab-vm
cache=${NSLAB_VM_CACHE:-$default_cache}
work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-vm-root.XXXXXX")
trap 'rm -rf "$work"' EXIT

archive() {  # DIR: the directory's content as a gzip'd newc cpio archive, on stdout
  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1)
}

# --- userland ------------------------------------------------------------------------------
# Debian programs, by name as found in PATH on this machine.
programs="dash ps ip ss nsenter setpriv unshare findmnt lsns mount umount dmesg
  grep find stat cat sleep readlink ls rmdir mkdir rm cp mv ln touch chmod chown hostname tr
  tail head wc awk sed cut sort uniq xargs basename dirname id env timeout date"
PATH=$PATH:/usr/sbin:/sbin
busybox=$(command -v busybox) || { echo "make-initramfs.sh: busybox is needed (Debian: busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
  echo "make-initramfs.sh: $busybox is linked dynamically; install busybox-static" >&2
  exit 1
fi
files=""
for name in $programs; do
  path=$(command -v "$name") || { echo "make-initramfs.sh: $name is needed on this machine" >&2; exit 1; }
  files="$files $(readlink -f "$path")"
  for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
    case " $files " in *" $lib "*) ;; *) files="$files $lib" ;; esac
  done
done
key=$( (cat "$0"; ls -lL --time-style=+%s "$busybox" $files) | sha256sum | cut -c1-16)
userland=$cache/userland-$key.cpio.gz
if [ ! -f "$userland" ]; then
  root=$work/userland
  mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/usr/local/bin" \
           "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" \
           "$root/root" "$root/home/student" "$root/mnt" "$root/newroot"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    case "$applet" in sh | ash | busybox) continue ;; esac  # /bin/sh is dash, as on Debian
    ln -s busybox "$root/bin/$applet"
  done
  ln -s /usr/bin/dash "$root/bin/sh"
  # Each program at /usr/bin/NAME (before busybox's /bin in PATH), each library at its path.
  for name in $programs; do
    cp "$(readlink -f "$(command -v "$name")")" "$root/usr/bin/$name"
    for lib in $(ldd "$(command -v "$name")" 2>/dev/null | grep -o '/[^ ]*'); do
      mkdir -p "$root$(dirname "$lib")"
      [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
    done
  done
  mkdir -p "$cache"
  archive "$root" > "$userland.tmp"
  mv "$userland.tmp" "$userland"
  # Archives made for other versions of this machine's programs are not needed any more.
  for old in "$cache"/userland-*.cpio.gz; do [ "$old" = "$userland" ] || rm -f "$old"; done
fi

# --- modules -------------------------------------------------------------------------------
modules=$kernel/modules.cpio.gz
if [ ! -f "$modules" ] || [ "$modules" -ot "$kernel/ready" ]; then
  root=$work/modules
  mkdir -p "$root/lib/modules"
  cp "$kernel"/modules/*.ko "$kernel/modules/order" "$root/lib/modules/" 2>/dev/null || true
  archive "$root" > "$modules.tmp"
  mv "$modules.tmp" "$modules"
fi

# --- this run ------------------------------------------------------------------------------
root=$work/run
mkdir -p "$root/etc" "$root/usr/local/bin" "$root/usr/local/share/nslab/lessons" "$root/nslab-vm"
strip -o "$root/usr/local/bin/nslab" "$nslab" 2>/dev/null || cp "$nslab" "$root/usr/local/bin/nslab"
strip -o "$root/usr/local/bin/tinysh" "$tinysh" 2>/dev/null || cp "$tinysh" "$root/usr/local/bin/tinysh"
cp "$lessons"/[0-9][0-9]-*.md "$root/usr/local/share/nslab/lessons/"
cp "$here/guest/init" "$root/init"
cp "$here/guest/plan.sh" "$here/guest/user-manager.sh" "$root/nslab-vm/"
cp "$here/guest/as-student" "$here/guest/as-root" "$root/usr/local/bin/"
chmod 755 "$root/init" "$root/usr/local/bin/as-student" "$root/usr/local/bin/as-root"
cp "$run_conf" "$root/nslab-vm/run.conf"
[ -z "$script" ] || cp "$script" "$root/nslab-vm/script.sh"
cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
student:x:1000:1000:A student:/home/student:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
shadow:x:42:
student:x:1000:
nogroup:x:65534:
EOF
# As on Debian: root's and the student's passwords locked, the file readable by root and the
# shadow group only (init sets the group). Lesson 4 reads it from boxes with and without a map.
cat > "$root/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
student:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 0640 "$root/etc/shadow"
echo 'passwd: files' > "$root/etc/nsswitch.conf"
echo 'group: files' >> "$root/etc/nsswitch.conf"
echo 'shadow: files' >> "$root/etc/nsswitch.conf"
echo nslab-vm > "$root/etc/hostname"
touch "$root/etc/fstab"

cat "$userland" "$modules"
archive "$root"
