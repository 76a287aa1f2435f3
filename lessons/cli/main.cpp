#include "app.h"

int main(int argc, char** argv) {
  return nslab::cli::nslab_main(argc, argv);
}
