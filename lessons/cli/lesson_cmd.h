// `nslab lesson [N]`: a lesson for a person. Guided by default (it waits for a key between
// steps and hands over the box's shell); `--auto` plays it at a typing pace for a demo;
// `--record F.cast` writes it as an asciicast v2 recording (auto, without waiting in real
// time). And `nslab` alone: the landing, with the lessons and how to start.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace nslab::cli {

struct LessonOptions {
  int number = 1;
  std::string dir;         // empty: the default lessons folder
  bool auto_play = false;  // --auto
  double speed = 1.0;      // --speed: 2 plays twice as fast
  std::string record;      // --record FILE
  std::string size;        // --size WxH of the recording
  int timeout_s = 10;      // per typed command
};

CLI::App* setup_lesson(CLI::App& app, LessonOptions& options);
int run_lesson_command(const LessonOptions& options);

// `nslab` with no subcommand: what nslab is, the lessons, and the commands to start.
int run_landing();

// "WxH" -> width and height (each 20..1000); false when malformed. Pure, for the tests.
bool parse_size(const std::string& text, int& width, int& height);

}  // namespace nslab::cli
