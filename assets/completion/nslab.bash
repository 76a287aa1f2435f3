# bash completion for nslab: its commands, each command's flags, and lesson numbers.
_nslab() {
  local cur prev words cword
  _init_completion || return
  local commands="lesson lessons check doctor run explain ps enter rootfs help"
  if ((cword == 1)); then
    COMPREPLY=($(compgen -W "$commands --version --help" -- "$cur"))
    return
  fi
  local command=${words[1]}
  case $command in
    lesson | check)
      if [[ $cur == -* ]]; then
        local flags="--help"
        [[ $command == lesson ]] && flags+=" --auto --speed --record --size --dir --timeout"
        [[ $command == check ]] && flags+=" -v --verbose --timeout --dir"
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "0 1 2 3 4 5 6 7 8 9 10" -- "$cur"))
      fi
      ;;
    run | explain)
      [[ $prev == --rootfs || $prev == --overlay-dir ]] && { _filedir -d; return; }
      COMPREPLY=($(compgen -W "--uts --hostname --mount --pivot --rootfs --overlay --overlay-dir
        --pid --proc --user --map-root --map-range --map-uid --map-gid --ipc --cgroup --time
        --net --veth --bridge --pids --memory --cpus --cap-drop --no-new-privs --seccomp --all -c
        --help" -- "$cur"))
      ;;
    help)
      COMPREPLY=($(compgen -W "$commands" -- "$cur"))
      ;;
    doctor)
      COMPREPLY=($(compgen -W "--color --help" -- "$cur"))
      ;;
    ps)
      COMPREPLY=($(compgen -W "-w --wide --help" -- "$cur"))
      ;;
    rootfs)
      [[ $prev == --busybox ]] && { _filedir; return; }
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--busybox --suite --help" -- "$cur"))
      elif ((cword == 2)); then
        COMPREPLY=($(compgen -W "busybox debian" -- "$cur"))
      else
        _filedir -d
      fi
      ;;
  esac
}
complete -F _nslab nslab
