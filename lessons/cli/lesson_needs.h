// What a lesson needs of the host, read from the lesson itself: every ```flags block goes
// through the same flag parser and to_spec() as `nslab run`, and the box_needs() of the Specs
// are the lesson's needs. The doctor and `nslab lessons` judge those with sandbox::meet_all(), so
// a lesson's verdict follows its file, not a table kept beside it.
#pragma once

#include <string>
#include <vector>

#include "catalog.h"
#include "host_probe.h"
#include "result.h"
#include "spec.h"

namespace nslab::cli {

// The Spec of one flags block's words ("--uts --hostname tinyhost"), as `nslab run` would take
// them; an unknown flag or a malformed value is an error naming it.
sandbox::Result<sandbox::Spec> spec_from_words(const std::vector<std::string>& words);

struct LessonNeeds {
  int number = 0;
  std::string title;                // "UTS namespace: a hostname of its own"
  std::vector<sandbox::Need> needs;  // every box's, each once, in the order of the Need enum
  std::string problem;              // the file could not be read, or a flags block is malformed
};

// One lesson's needs (pure: the lesson is already parsed).
LessonNeeds needs_of(int number, const lessons::Lesson& lesson);
// Every lesson of `dir`, in order.
std::vector<LessonNeeds> needs_of_lessons(const std::string& dir);

// The host's answer for one lesson: "won't" with the reason and the fix when a need is not met.
sandbox::Answer judge(const sandbox::HostFacts& facts, const LessonNeeds& lesson);

// The same host as root would see it: euid 0 with CAP_SYS_ADMIN and CAP_NET_ADMIN; and as a
// user without either (uid 65534 when the facts are root's). Pure.
sandbox::HostFacts as_root(sandbox::HostFacts facts);
sandbox::HostFacts as_user(sandbox::HostFacts facts);
// Root gets further with this lesson here than a user does. Pure.
bool root_only(const sandbox::HostFacts& facts, const LessonNeeds& lesson);

// A lesson on this host for the one who runs nslab, and whether sudo is the way: the one answer
// `nslab lesson`, `nslab check`, `nslab lessons` and the doctor give.
struct LessonHere {
  sandbox::Answer answer;   // for the caller
  bool needs_sudo = false;  // the caller's answer is "won't" and root's is not
};
LessonHere lesson_here(const sandbox::HostFacts& facts, const LessonNeeds& lesson);
// Probes only the files the lesson's needs depend on, as the current user.
LessonHere lesson_here(const LessonNeeds& lesson);

}  // namespace nslab::cli
