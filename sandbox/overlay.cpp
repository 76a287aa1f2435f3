// --overlay: the box's root as an overlay (overlayfs(5)) of the --rootfs directory, read-only,
// under a layer the box writes to. A file the box changes is first copied up from the lower
// directory into the upper one; a file it deletes gets a whiteout there, a character device 0,0
// that hides the lower file; the lower directory never changes, so any number of boxes can
// share it, each over a layer of its own: what a container image and a container's layer are.
//
//   --overlay               the layer is a tmpfs in the box's mount namespace, gone with it
//   --overlay-dir DIR       the layer is DIR/upper, kept: look at it from the host while the box
//                           runs, or start the next box over it; DIR/work is overlayfs's own
//                           scratch space, which must be on the same filesystem as the upper
//
// In a user namespace the kernel mounts an overlay since Linux 5.11. The upper layer is written
// as the box's root, so its directories must be that user's outside: the runner makes DIR/upper
// and DIR/work and, when root's box maps its root to another user, gives them to it.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

void plan_layer_dir(const Spec& spec, const Caller& caller, Plan& plan) {
  if (!spec.overlay_dir) return;
  const std::string& dir = *spec.overlay_dir;
  op::PrepareLayerDir step{.dir = dir, .subdirs = {dir + "/upper", dir + "/work"}};
  if (spec.user)
    if (auto owner = root_inside_owner(plan.uid_map, plan.gid_map, caller))
      step.owner = std::pair<std::uint32_t, std::uint32_t>(owner->first, owner->second);
  std::string why =
      "the layer the box writes to is kept in DIR/upper, beside overlayfs's work directory";
  if (step.owner) why += "; both go to the box's root, who writes them, a user of its own outside";
  plan.steps.push_back({std::move(step), why});
}

Status prepare_layer_dir(const Plan& plan, const op::PrepareLayerDir& step) {
  auto about = [&](Status status) -> Status {
    if (status) return status;
    Error e = status.error();
    e.call = fmt::format("--overlay-dir {}: {}", plan.spec.overlay_dir_as_given, e.call);
    return e;
  };
  if (!sys::access(step.dir, F_OK)) SANDBOX_TRY(about(sys::make_dir(step.dir, 0755)));
  for (const auto& sub : step.subdirs) {
    if (sys::access(sub, F_OK)) continue;
    SANDBOX_TRY(about(sys::make_dir(sub, 0755)));
    if (!step.owner) continue;
    // Given away through the directory just made, never by name: DIR may be writable by others,
    // and a name swapped for a symlink meanwhile would hand them the file it points to.
    auto made = sys::open(sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!made) return about(made.error());
    SANDBOX_TRY(about(sys::fchown(made->get(), step.owner->first, step.owner->second)));
  }
  return ok();
}

Result<Fd> open_layer_dir(const BoxSetup& box, const op::BindRootfsDir& step) {
  if (step.layer_dir.empty()) return Fd();
  auto opened = sys::open(step.layer_dir, O_PATH | O_DIRECTORY);
  if (!opened) {
    Error e = opened.error();
    e.call = fmt::format("--overlay-dir {}: {}", box.plan.spec.overlay_dir_as_given, e.call);
    return e;
  }
  return std::move(*opened);
}

Status mount_layer(const op::BindRootfsDir& step, const Fd& layer_dir) {
  if (!step.layer) return ok();
  sys::MountCall layer = *step.layer;
  SANDBOX_TRY(sys::make_dir(layer.target, 0755));
  if (layer_dir) layer.source = fmt::format("/proc/self/fd/{}", layer_dir.get());
  SANDBOX_TRY(sys::mount(layer));
  // Made by the runner for --overlay-dir (they exist); in the fresh tmpfs, by the box's root.
  for (const auto& dir : step.layer_dirs)
    if (!sys::access(dir, F_OK)) SANDBOX_TRY(sys::make_dir(dir, 0755));
  return ok();
}

}  // namespace sandbox
