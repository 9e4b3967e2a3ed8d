#include "support/test_util.h"

#include <stdlib.h>

#include <cstdlib>

#include "storage/env.h"

namespace ark::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ark-test-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << tmpl;
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("ARK_KEEP_TEST_DIRS") == nullptr) {
    (void)Env::Default()->RemoveAll(path_);
  }
}

std::string BinaryDir() {
  const char* dir = std::getenv("ARK_TEST_BINARY_DIR");
  return dir && *dir ? dir : ".";
}

}  // namespace ark::testing
