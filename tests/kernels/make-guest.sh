#!/bin/sh
# Builds the guest's initramfs: busybox for the init and the basic tools, Debian's own ps, ip,
# ss, nsenter, setpriv, newuidmap and newgidmap (the lessons' host blocks use `ps -p`, `ip -brief` and `ss`, which
# busybox lacks) and dash with their shared libraries, nslab and tinysh (static, stripped), the lessons,
# the kernel's modules, and the init script.
#
# usage: make-guest.sh KERNEL_DIR NSLAB TINYSH LESSONS_DIR OUT.cpio.gz
set -eu
kernel=$1 nslab=$2 tinysh=$3 lessons=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /var/tmp/nslab-guest.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/bin "$root"/usr/bin "$root"/etc "$root"/nslab "$root"/lib/modules "$root"/root \
         "$root"/home/student "$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/run "$root"/mnt
busybox=$(command -v busybox) || { echo "make-guest.sh: busybox-static is needed" >&2; exit 1; }
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# Debian's programs and every library they load, at the same paths. dash is /bin/sh, as on
# Debian: busybox's sh runs its own applets before any program of the same name on PATH.
for prog in dash ps ip ss nsenter setpriv newuidmap newgidmap; do
  path=$(command -v "$prog") || { echo "make-guest.sh: $prog is needed on the host" >&2; exit 1; }
  cp "$path" "$root/usr/bin/$prog"
  for lib in $(ldd "$path" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
  done
done
# newuidmap and newgidmap (uidmap) are setuid root, and the student has a range of ids of its
# own, as useradd gives one on Debian and Fedora: lesson 4 maps it without root.
chmod 4755 "$root/usr/bin/newuidmap" "$root/usr/bin/newgidmap"
printf 'student:100000:65536\n' > "$root/etc/subuid"
printf 'student:100000:65536\n' > "$root/etc/subgid"
rm "$root/bin/sh"
mv "$root/usr/bin/dash" "$root/bin/sh"
strip -o "$root/nslab/nslab" "$nslab"
strip -o "$root/nslab/tinysh" "$tinysh"
mkdir -p "$root/nslab/lessons"
cp "$lessons"/[0-9][0-9]-*.md "$root/nslab/lessons/"
cp "$kernel"/modules/*.ko "$kernel"/modules/order "$root/lib/modules/" 2>/dev/null || true
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\nstudent:x:1000:1000:student:/home/student:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nstudent:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'root:*:19000:0:99999:7:::\nstudent:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
chmod 640 "$root/etc/shadow"
chown 1000:1000 "$root/home/student"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null) | gzip -1 > "$out"
