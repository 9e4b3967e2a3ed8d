#include "dr/replication/replication_config.h"

#include <fmt/format.h>

#include <cctype>

namespace ark::dr {

Status ValidateStandbyName(const std::string& name) {
  // Its slot "repl.NAME" is at most 64 characters; a letter or digit first,
  // so "." and ".." are not names.
  bool ok = !name.empty() && name.size() <= 59 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char ch : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-');
  }
  if (!ok) {
    return Status::InvalidArgument(
        fmt::format("standby name '{}' must be 1-59 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit", name));
  }
  return Status::OK();
}

Status ReplicationConfig::Validate() const {
  ARK_RETURN_IF_ERROR(ValidateStandbyName(name).WithContext("replication.name"));
  if (is_standby() && primary.rfind("http://", 0) != 0 && primary.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(
        fmt::format("replication.primary '{}' must be an http:// or https:// URL (e.g. http://10.0.0.1:19530)", primary));
  }
  if (!token.empty() && !token_file.empty()) {
    return Status::InvalidArgument("replication: give token or token_file, not both");
  }
  if (!archive_key_file.empty() && !archive_passphrase_file.empty()) {
    return Status::InvalidArgument("replication: give archive_key_file or archive_passphrase_file, not both");
  }
  if ((!archive_key_file.empty() || !archive_passphrase_file.empty()) && archive_repo.empty()) {
    return Status::InvalidArgument("replication.archive_key_file / archive_passphrase_file need replication.archive_repo");
  }
  if (mode != "async" && mode != "sync" && mode != "periodic") {
    return Status::InvalidArgument(fmt::format("replication.mode '{}' is not one of async, sync, periodic", mode));
  }
  if (sync_policy != "degrade" && sync_policy != "block") {
    return Status::InvalidArgument(
        fmt::format("replication.sync_policy '{}' is not one of degrade, block", sync_policy));
  }
  if (sync_timeout_ms == 0 || sync_timeout_ms > 3'600'000) {
    return Status::InvalidArgument(fmt::format("replication.sync_timeout_ms must be 1..3600000, got {}", sync_timeout_ms));
  }
  if (!(period_seconds >= 0.01) || period_seconds > 86400) {
    return Status::InvalidArgument(fmt::format("replication.period_seconds must be 0.01..86400, got {}", period_seconds));
  }
  if (max_slot_bytes != 0 && max_slot_bytes < (1u << 20)) {
    return Status::InvalidArgument(
        fmt::format("replication.max_slot_bytes must be 0 (unbounded) or at least 1 MiB, got {}", max_slot_bytes));
  }
  if (!(bootstrap_pin_seconds >= 10) || bootstrap_pin_seconds > 7 * 86400) {
    return Status::InvalidArgument(
        fmt::format("replication.bootstrap_pin_seconds must be 10..604800, got {}", bootstrap_pin_seconds));
  }
  return Status::OK();
}

}  // namespace ark::dr
