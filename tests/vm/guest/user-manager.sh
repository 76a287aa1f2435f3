# What the student's manager (systemd --user) does with its delegated cgroup when it starts,
# run as the student (uid 1000) from user@1000.service, where PID 1 started it:
# into a leaf of its own (init.scope), since a cgroup that enables controllers for its children
# may hold no process itself; then the controllers for its children, then app.slice and the
# scope the student's commands run in. Then it stays, as the manager does.
# usage: sh user-manager.sh SERVICE_CGROUP_DIR
set -e
cd "$1"
mkdir init.scope
echo $$ > init.scope/cgroup.procs
echo "+cpu +memory +pids" > cgroup.subtree_control
mkdir app.slice
echo "+cpu +memory +pids" > app.slice/cgroup.subtree_control
mkdir app.slice/nslab-test.scope
exec sleep infinity
