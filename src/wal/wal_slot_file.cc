#include "wal/wal_slot_file.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/coding.h"
#include "core/hash.h"
#include "wal/slots_format.h"

namespace ark {
namespace {

using nlohmann::json;
using namespace slots_format;

json SlotToJson(const WalSlotInfo& s) {
  return json{{"name", s.name},
              {"restart", {{"epoch", s.restart.epoch}, {"lsn", s.restart.lsn}}},
              {"maxRetainedBytes", s.max_retained_bytes},
              {"invalidated", s.invalidated},
              {"invalidatedReason", s.invalidated_reason},
              {"invalidatedMicros", s.invalidated_micros}};
}

// Throws nlohmann::json exceptions for a missing or mistyped field; the
// caller turns them into Corruption.
WalSlotInfo SlotFromJson(const json& j) {
  WalSlotInfo s;
  s.name = j.at("name").get<std::string>();
  s.restart.epoch = j.at("restart").at("epoch").get<uint64_t>();
  s.restart.lsn = j.at("restart").at("lsn").get<uint64_t>();
  s.max_retained_bytes = j.at("maxRetainedBytes").get<uint64_t>();
  s.invalidated = j.at("invalidated").get<bool>();
  s.invalidated_reason = j.at("invalidatedReason").get<std::string>();
  s.invalidated_micros = j.at("invalidatedMicros").get<uint64_t>();
  return s;
}

}  // namespace

bool IsValidWalSlotName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

std::string EncodeWalSlotsFile(const std::vector<WalSlotInfo>& slots) {
  json body{{"slots", json::array()}};
  for (const auto& s : slots) body["slots"].push_back(SlotToJson(s));
  std::string text = body.dump();
  std::string out(kMagic, sizeof kMagic);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, 0);  // flags
  PutFixed64(&out, text.size());
  PutFixed64(&out, Xxh3_64(text));
  out += text;
  return out;
}

Result<std::vector<WalSlotInfo>> DecodeWalSlotsFile(std::string_view bytes,
                                                    const std::string& path) {
  if (bytes.size() < kHeaderSize) {
    return Status::Corruption(path + " offset 0: " + std::to_string(bytes.size()) +
                              " bytes, shorter than the " + std::to_string(kHeaderSize) +
                              "-byte header");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return Status::Corruption(path + " offset 0: bad magic (not a WAL slots file)");
  }
  uint32_t version = DecodeFixed32(bytes.data() + 8);
  if (version > kVersion || version == 0) {
    return Status::NotSupported(path + ": slots file format version " + std::to_string(version) +
                                ", this build reads version " + std::to_string(kVersion));
  }
  uint64_t length = DecodeFixed64(bytes.data() + 16);
  if (length != bytes.size() - kHeaderSize) {
    return Status::Corruption(path + " offset 16: body length " + std::to_string(length) +
                              ", the file holds " + std::to_string(bytes.size() - kHeaderSize) +
                              " body bytes");
  }
  std::string_view body = bytes.substr(kHeaderSize);
  if (Xxh3_64(body.data(), body.size()) != DecodeFixed64(bytes.data() + 24)) {
    return Status::Corruption(path + " offset 32: body checksum mismatch");
  }
  std::vector<WalSlotInfo> slots;
  try {
    json j = json::parse(body);
    for (const auto& s : j.at("slots")) slots.push_back(SlotFromJson(s));
  } catch (const json::exception& e) {
    return Status::Corruption(path + " offset 32: bad slots body: " + e.what());
  }
  for (const auto& s : slots) {
    if (!IsValidWalSlotName(s.name)) {
      return Status::Corruption(path + " offset 32: bad slot name '" + s.name + "'");
    }
  }
  return slots;
}

Result<std::vector<WalSlotInfo>> ReadWalSlotsFile(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, kFileName);
  if (!env->FileExists(path)) return std::vector<WalSlotInfo>{};
  std::string bytes;
  ARK_RETURN_IF_ERROR(env->ReadFileToString(path, &bytes));
  return DecodeWalSlotsFile(bytes, path);
}

Status WriteWalSlotsFile(Env* env, const std::string& dir,
                         const std::vector<WalSlotInfo>& slots) {
  const std::string temp = JoinPath(dir, kTempFileName);
  ARK_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(temp));
  ARK_RETURN_IF_ERROR(file->Append(EncodeWalSlotsFile(slots)));
  ARK_RETURN_IF_ERROR(file->Sync());
  ARK_RETURN_IF_ERROR(file->Close());
  ARK_RETURN_IF_ERROR(env->RenameFile(temp, JoinPath(dir, kFileName)));
  return env->SyncDir(dir);
}

}  // namespace ark
