// The repository descriptor ark-repo.json (docs/formats/backup-repository.md,
// "Descriptor"): JSON encoding and the checks Open applies to every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dr/repository/repository.h"

namespace ark::dr {

inline constexpr uint32_t kRepositoryFormatVersion = 1;
inline constexpr size_t kSaltSize = 16;             // bytes of saltHex
inline constexpr uint64_t kMaxScryptN = 1u << 20;  // bounds memory of a hostile descriptor

nlohmann::json DescriptorToJson(const RepositoryDescriptor& d);
// Checks every field. `where` names the descriptor in messages. Corruption
// naming the first bad field; NotSupported for a newer formatVersion.
Result<RepositoryDescriptor> ParseDescriptor(const std::string& where, const nlohmann::json& j);

// InvalidArgument (prefixed with `where`) unless N is a power of two in
// 2..kMaxScryptN, r in 1..32 and p in 1..16.
Status CheckScryptCost(uint64_t n, uint32_t r, uint32_t p, const std::string& where);

// Lowercase hex (one spelling per value) to bytes; nullopt otherwise.
std::optional<std::string> LowerHexToBytes(std::string_view hex);
bool IsLowerHex(std::string_view s, size_t size);

}  // namespace ark::dr
