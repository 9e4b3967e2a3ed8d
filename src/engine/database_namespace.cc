// Database: Milvus databases and collection aliases (durable: logged as
// engine-defined WAL ops 100-103 and kept in the manifest).
#include <algorithm>

#include <fmt/format.h>

#include "engine/database.h"
#include "engine/database_collection.h"
#include "engine/wal_codec.h"

namespace ark {

Result<Position> Database::CreateDatabase(const std::string& database) {
  ARK_RETURN_IF_ERROR(ValidateName("database", database));
  ARK_RETURN_IF_ERROR(CheckWritable("create database"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (database == kDefaultDatabase || databases_.count(database)) {
      return Status::AlreadyExists(fmt::format("database '{}' already exists", database));
    }
    nlohmann::json body = {{"database", database}};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpCreateDatabase), 0, body.dump()));
    WalRecord r{pos, 0, kOpCreateDatabase, 0, body.dump()};
    ARK_RETURN_IF_ERROR(ApplyNamespaceRecord(r));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<Position> Database::DropDatabase(const std::string& database) {
  ARK_RETURN_IF_ERROR(CheckWritable("drop database"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (database == kDefaultDatabase) {
      return Status::FailedPrecondition("database 'default' cannot be dropped");
    }
    if (!databases_.count(database)) return Status::NotFound(fmt::format("database '{}' not found", database));
    for (const auto& [key, id] : names_) {
      if (key.first == database) {
        return Status::FailedPrecondition(fmt::format(
            "database '{}' still has collection '{}': drop its collections first", database, key.second));
      }
    }
    nlohmann::json body = {{"database", database}};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpDropDatabase), 0, body.dump()));
    WalRecord r{pos, 0, kOpDropDatabase, 0, body.dump()};
    ARK_RETURN_IF_ERROR(ApplyNamespaceRecord(r));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

std::vector<std::string> Database::ListDatabases() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> all(databases_.begin(), databases_.end());
  all.insert(std::string(kDefaultDatabase));
  for (const auto& [key, id] : names_) all.insert(key.first);  // pre-database data directories
  return {all.begin(), all.end()};
}

bool Database::HasDatabase(const std::string& database) const {
  const std::string db = DbName(database);
  std::lock_guard<std::mutex> lock(mu_);
  if (db == kDefaultDatabase || databases_.count(db)) return true;
  for (const auto& [key, id] : names_) {
    if (key.first == db) return true;
  }
  return false;
}

Result<Position> Database::CreateAlias(const std::string& database, const std::string& alias,
                                       const std::string& collection, bool replace) {
  const std::string db = DbName(database);
  ARK_RETURN_IF_ERROR(ValidateName("alias", alias));
  ARK_RETURN_IF_ERROR(CheckWritable("create alias"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Collection* c = FindLocked(db, collection, /*allow_alias=*/false);
    if (c == nullptr) {
      return CollectionNotFound(db, collection);
    }
    if (names_.count({db, alias})) {
      return Status::AlreadyExists(fmt::format("'{}' is a collection name in database '{}', not usable as an alias", alias, db));
    }
    const bool exists = aliases_.count({db, alias}) > 0;
    if (exists && !replace) {
      return Status::AlreadyExists(fmt::format("alias '{}' already exists in database '{}'", alias, db));
    }
    if (!exists && replace) return Status::NotFound(fmt::format("alias '{}' not found in database '{}'", alias, db));
    nlohmann::json body = {{"database", db}, {"alias", alias}, {"collectionId", c->id}};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpSetAlias), c->id, body.dump()));
    WalRecord r{pos, 0, kOpSetAlias, c->id, body.dump()};
    ARK_RETURN_IF_ERROR(ApplyNamespaceRecord(r));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<Position> Database::DropAlias(const std::string& database, const std::string& alias) {
  const std::string db = DbName(database);
  ARK_RETURN_IF_ERROR(CheckWritable("drop alias"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!aliases_.count({db, alias})) return Status::NotFound(fmt::format("alias '{}' not found in database '{}'", alias, db));
    nlohmann::json body = {{"database", db}, {"alias", alias}};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpDropAlias), 0, body.dump()));
    WalRecord r{pos, 0, kOpDropAlias, 0, body.dump()};
    ARK_RETURN_IF_ERROR(ApplyNamespaceRecord(r));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<std::string> Database::DescribeAlias(const std::string& database, const std::string& alias) const {
  const std::string db = DbName(database);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = aliases_.find({db, alias});
  if (it == aliases_.end()) return Status::NotFound(fmt::format("alias '{}' not found in database '{}'", alias, db));
  return FindByIdLocked(it->second)->name;
}

Result<std::vector<std::string>> Database::ListAliases(const std::string& database,
                                                       const std::string& collection) const {
  const std::string db = DbName(database);
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t want = 0;
  if (!collection.empty()) {
    Collection* c = FindLocked(db, collection, /*allow_alias=*/false);
    if (c == nullptr) return CollectionNotFound(db, collection);
    want = c->id;
  }
  std::vector<std::string> out;
  for (const auto& [key, id] : aliases_) {
    if (key.first == db && (want == 0 || id == want)) out.push_back(key.second);
  }
  return out;
}

Status Database::ApplyNamespaceRecord(const WalRecord& record) {
  const Position at = record.position;
  auto body = nlohmann::json::parse(record.body, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& what) {
    return Status::Corruption(fmt::format("WAL record at {} (op {}): {}", at.ToString(), record.op, what));
  };
  if (body.is_discarded() || !body.is_object() || !body.contains("database") || !body["database"].is_string()) {
    return bad("body is not a JSON object with a database");
  }
  const std::string db = body["database"].get<std::string>();
  std::lock_guard<std::mutex> view(view_mu_);
  switch (record.op) {
    case kOpCreateDatabase:
      databases_.insert(db);
      break;
    case kOpDropDatabase:
      databases_.erase(db);
      database_properties_.erase(db);
      break;
    case kOpSetAlias: {
      if (!body.contains("alias") || !body["alias"].is_string() || !body.contains("collectionId") ||
          !body["collectionId"].is_number_unsigned()) {
        return bad("alias body lacks alias or collectionId");
      }
      const uint64_t id = body["collectionId"].get<uint64_t>();
      if (!collections_.count(id)) return bad(fmt::format("alias of unknown collection id {}", id));
      aliases_[{db, body["alias"].get<std::string>()}] = id;
      break;
    }
    case kOpDropAlias:
      if (!body.contains("alias") || !body["alias"].is_string()) return bad("alias body lacks alias");
      aliases_.erase({db, body["alias"].get<std::string>()});
      break;
    default:
      return bad("not a namespace op");
  }
  applied_lsn_.store(std::max(applied_lsn_.load(), at.lsn), std::memory_order_release);
  return Status::OK();
}

Result<Position> Database::AlterDatabaseProperties(const std::string& database,
                                                   const std::map<std::string, std::string>& set,
                                                   const std::vector<std::string>& drop) {
  const std::string db = DbName(database);
  for (const auto& [key, value] : set) {
    if (key.empty() || key.size() > 256) {
      return Status::InvalidArgument(fmt::format("database '{}': property keys must be 1..256 bytes", db));
    }
    if (value.size() > 65536) {
      return Status::InvalidArgument(fmt::format("database '{}': property '{}' is longer than 64 KiB", db, key));
    }
    if (key == kMaxCollectionsProperty) {
      bool digits = !value.empty() && value.size() <= 9 &&
                    std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) {
        return Status::InvalidArgument(fmt::format(
            "database '{}': {} must be a non-negative integer below 10^9, got '{}'", db, key, value));
      }
    }
  }
  ARK_RETURN_IF_ERROR(CheckWritable("alter database properties"));
  ARK_RETURN_IF_ERROR(StickyError());
  Position pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (db != kDefaultDatabase && !databases_.count(db)) {
      return Status::NotFound(fmt::format("database '{}' not found", db));
    }
    nlohmann::json body = {{"database", db}, {"set", set}, {"drop", drop}};
    ARK_ASSIGN_OR_RETURN(pos, wal_->Append(static_cast<WalOp>(kOpAlterDatabase), 0, body.dump()));
    ARK_RETURN_IF_ERROR(ApplyAlterDatabase(WalRecord{pos, 0, kOpAlterDatabase, 0, body.dump()}));
  }
  ARK_RETURN_IF_ERROR(WaitCommitted(pos));
  return pos;
}

Result<std::map<std::string, std::string>> Database::DatabaseProperties(const std::string& database) const {
  const std::string db = DbName(database);
  std::lock_guard<std::mutex> lock(mu_);
  if (db != kDefaultDatabase && !databases_.count(db)) {
    bool has_collections = false;  // a pre-database data directory's implicit database
    for (const auto& [key, id] : names_) has_collections |= key.first == db;
    if (!has_collections) return Status::NotFound(fmt::format("database '{}' not found", db));
  }
  auto it = database_properties_.find(db);
  if (it == database_properties_.end()) return std::map<std::string, std::string>{};
  return it->second;
}

// A database unknown at replay (dropped later in a log a backup filtered)
// keeps nothing; a malformed body is Corruption.
Status Database::ApplyAlterDatabase(const WalRecord& record) {
  const Position at = record.position;
  auto body = nlohmann::json::parse(record.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("database") ||
      !body["database"].is_string() || !body.contains("set") || !body["set"].is_object() ||
      !body.contains("drop") || !body["drop"].is_array()) {
    return Status::Corruption(fmt::format("WAL record at {}: database properties body is not valid", at.ToString()));
  }
  const std::string db = body["database"].get<std::string>();
  if (db == kDefaultDatabase || databases_.count(db)) {
    auto& props = database_properties_[db];
    for (auto it = body["set"].begin(); it != body["set"].end(); ++it) {
      if (!it.value().is_string()) {
        return Status::Corruption(fmt::format("WAL record at {}: property '{}' is not a string", at.ToString(), it.key()));
      }
      props[it.key()] = it.value().get<std::string>();
    }
    for (const auto& k : body["drop"]) {
      if (k.is_string()) props.erase(k.get<std::string>());
    }
    if (props.empty()) database_properties_.erase(db);
  }
  applied_lsn_.store(std::max(applied_lsn_.load(), at.lsn), std::memory_order_release);
  return Status::OK();
}

}  // namespace ark
