#include "dr/repository/repository_descriptor.h"

#include "dr/repository/blob_format.h"

namespace ark::dr {
namespace {

bool PowerOfTwo(uint64_t n) { return n >= 2 && (n & (n - 1)) == 0; }

// Reads and checks every field; Corruption naming the first bad one.
class DescriptorParser {
 public:
  DescriptorParser(std::string where, const nlohmann::json& j) : where_(std::move(where)), j_(j) {}

  Result<RepositoryDescriptor> Parse() {
    RepositoryDescriptor d;
    if (!j_.is_object()) return Status::Corruption(where_ + ": not a JSON object");
    ARK_ASSIGN_OR_RETURN(uint64_t version, Unsigned(j_, "formatVersion", 1, UINT32_MAX));
    if (version > kRepositoryFormatVersion) {
      return Status::NotSupported(where_ + ": formatVersion " + std::to_string(version) +
                                  " is newer than this build reads (1); upgrade Ark");
    }
    d.format_version = static_cast<uint32_t>(version);
    ARK_ASSIGN_OR_RETURN(d.repository_id, String(j_, "repositoryId"));
    if (!IsLowerHex(d.repository_id, 32)) return Bad("repositoryId", "not 32 lowercase hex characters");
    ARK_ASSIGN_OR_RETURN(d.created_micros, Unsigned(j_, "createdMicros", 0, UINT64_MAX));
    ARK_ASSIGN_OR_RETURN(d.compression, String(j_, "compression"));
    if (d.compression != "zstd" && d.compression != "none") {
      return Bad("compression", "\"" + d.compression + "\" is not \"zstd\" or \"none\"");
    }
    ARK_ASSIGN_OR_RETURN(uint64_t level, Unsigned(j_, "zstdLevel", 1, 19));
    d.zstd_level = static_cast<int>(level);
    ARK_ASSIGN_OR_RETURN(uint64_t chunk, Unsigned(j_, "chunkSize", kMinChunkSize, kMaxChunkSize));
    d.chunk_size = static_cast<uint32_t>(chunk);
    ARK_ASSIGN_OR_RETURN(d.encryption, String(j_, "encryption"));
    ARK_ASSIGN_OR_RETURN(d.key_derivation, String(j_, "keyDerivation"));
    ARK_ASSIGN_OR_RETURN(d.salt_hex, String(j_, "saltHex"));
    ARK_ASSIGN_OR_RETURN(d.key_check_hex, String(j_, "keyCheckHex"));
    ARK_RETURN_IF_ERROR(ParseEncryption(&d));
    return d;
  }

 private:
  Status Bad(const std::string& field, const std::string& why) const {
    return Status::Corruption(where_ + ": field " + field + ": " + why);
  }
  Result<uint64_t> Unsigned(const nlohmann::json& obj, const std::string& field, uint64_t lo,
                            uint64_t hi) const {
    auto it = obj.find(field);
    if (it == obj.end()) return Bad(field, "missing");
    if (!it->is_number_unsigned()) return Bad(field, "not an unsigned integer");
    uint64_t v = it->get<uint64_t>();
    if (v < lo || v > hi) {
      return Bad(field, std::to_string(v) + " not in " + std::to_string(lo) + ".." +
                            std::to_string(hi));
    }
    return v;
  }
  Result<std::string> String(const nlohmann::json& obj, const std::string& field) const {
    auto it = obj.find(field);
    if (it == obj.end()) return Bad(field, "missing");
    if (!it->is_string()) return Bad(field, "not a string");
    return it->get<std::string>();
  }

  Status ParseEncryption(RepositoryDescriptor* d) const {
    auto scrypt = j_.find("scrypt");
    bool has_scrypt = scrypt != j_.end() && !scrypt->is_null();
    if (d->encryption == "none") {
      if (!d->key_derivation.empty()) return Bad("keyDerivation", "set without encryption");
      if (!d->salt_hex.empty()) return Bad("saltHex", "set without encryption");
      if (!d->key_check_hex.empty()) return Bad("keyCheckHex", "set without encryption");
      if (has_scrypt) return Bad("scrypt", "set without encryption");
      return Status::OK();
    }
    if (d->encryption != "aes-256-gcm") {
      return Bad("encryption", "\"" + d->encryption + "\" is not \"none\" or \"aes-256-gcm\"");
    }
    if (!IsLowerHex(d->salt_hex, 2 * kSaltSize)) return Bad("saltHex", "not 32 lowercase hex characters");
    if (!IsLowerHex(d->key_check_hex, 64)) return Bad("keyCheckHex", "not 64 lowercase hex characters");
    if (d->key_derivation == "key-file") {
      if (has_scrypt) return Bad("scrypt", "set for keyDerivation \"key-file\"");
      return Status::OK();
    }
    if (d->key_derivation != "scrypt") {
      return Bad("keyDerivation", "\"" + d->key_derivation + "\" is not \"key-file\" or \"scrypt\"");
    }
    if (!has_scrypt || !scrypt->is_object()) return Bad("scrypt", "missing or not an object");
    ARK_ASSIGN_OR_RETURN(d->scrypt_n, Unsigned(*scrypt, "n", 2, kMaxScryptN));
    ARK_ASSIGN_OR_RETURN(uint64_t r, Unsigned(*scrypt, "r", 1, 32));
    ARK_ASSIGN_OR_RETURN(uint64_t p, Unsigned(*scrypt, "p", 1, 16));
    d->scrypt_r = static_cast<uint32_t>(r);
    d->scrypt_p = static_cast<uint32_t>(p);
    if (!PowerOfTwo(d->scrypt_n)) return Bad("scrypt.n", "not a power of two");
    return Status::OK();
  }

  const std::string where_;
  const nlohmann::json& j_;
};

}  // namespace

std::optional<std::string> LowerHexToBytes(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;  // lowercase only: one spelling per value
    out[i / 2] = static_cast<char>(out[i / 2] << 4 | v);
  }
  return out;
}

bool IsLowerHex(std::string_view s, size_t size) { return s.size() == size && LowerHexToBytes(s); }


Status CheckScryptCost(uint64_t n, uint32_t r, uint32_t p, const std::string& where) {
  if (!PowerOfTwo(n) || n > kMaxScryptN) {
    return Status::InvalidArgument(where + "scrypt N " + std::to_string(n) +
                                   " is not a power of two in 2..2^20");
  }
  if (r < 1 || r > 32 || p < 1 || p > 16) {
    return Status::InvalidArgument(where + "scrypt r " + std::to_string(r) + " / p " +
                                   std::to_string(p) + " not in 1..32 / 1..16");
  }
  return Status::OK();
}

nlohmann::json DescriptorToJson(const RepositoryDescriptor& d) {
  nlohmann::json j = {
      {"formatVersion", d.format_version}, {"repositoryId", d.repository_id},
      {"createdMicros", d.created_micros}, {"compression", d.compression},
      {"zstdLevel", static_cast<uint32_t>(d.zstd_level)}, {"chunkSize", d.chunk_size},
      {"encryption", d.encryption},        {"keyDerivation", d.key_derivation},
      {"saltHex", d.salt_hex},             {"keyCheckHex", d.key_check_hex},
  };
  j["scrypt"] = d.key_derivation == "scrypt"
                    ? nlohmann::json{{"n", d.scrypt_n}, {"r", d.scrypt_r}, {"p", d.scrypt_p}}
                    : nlohmann::json(nullptr);
  return j;
}

Result<RepositoryDescriptor> ParseDescriptor(const std::string& where, const nlohmann::json& j) {
  return DescriptorParser(where, j).Parse();
}

}  // namespace ark::dr
