// Checked number reads from JSON documents Ark decodes (manifests, schemas,
// index definitions). nlohmann's get<uint64_t>() on a float such as 2.3e76
// is undefined behaviour (found by manifest_fuzz); these check the kind and
// range first and throw std::invalid_argument naming the value, which the
// decoders turn into Corruption / InvalidArgument.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace ark {

template <typename T>
T JsonUnsigned(const nlohmann::json& v) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > std::numeric_limits<T>::max()) {
    throw std::invalid_argument("expected an unsigned integer up to " +
                                std::to_string(std::numeric_limits<T>::max()) + ", got " +
                                v.dump().substr(0, 64));
  }
  return static_cast<T>(v.get<uint64_t>());
}

inline int64_t JsonInt64(const nlohmann::json& v) {
  if (!v.is_number_integer()) {
    throw std::invalid_argument("expected an integer, got " + v.dump().substr(0, 64));
  }
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
    throw std::invalid_argument("integer out of range: " + v.dump().substr(0, 64));
  }
  return v.get<int64_t>();
}

}  // namespace ark
