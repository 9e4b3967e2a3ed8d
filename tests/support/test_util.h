// Helpers shared by every test binary.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/status.h"

namespace ark::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object goes out of scope (kept if ARK_KEEP_TEST_DIRS is set).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Directory holding the built binaries (the `ark` executable), from
// ARK_TEST_BINARY_DIR set by CTest, or the current directory.
std::string BinaryDir();

}  // namespace ark::testing

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const ::ark::Status ark_s_ = (expr);                  \
    ASSERT_TRUE(ark_s_.ok()) << ark_s_.ToString();        \
  } while (0)
#define EXPECT_OK(expr)                                   \
  do {                                                    \
    const ::ark::Status ark_s_ = (expr);                  \
    EXPECT_TRUE(ark_s_.ok()) << ark_s_.ToString();        \
  } while (0)
// ASSERT_OK_AND_ASSIGN(auto x, ResultReturningCall());
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(ARK_CONCAT(ark_r_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                \
  auto tmp = (expr);                                             \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();              \
  lhs = std::move(tmp).value()
