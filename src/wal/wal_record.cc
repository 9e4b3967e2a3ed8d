#include "wal/wal_record.h"

namespace ark {

std::string_view WalOpName(uint16_t op) {
  switch (static_cast<WalOp>(op)) {
    case WalOp::kCreateCollection: return "create_collection";
    case WalOp::kDropCollection: return "drop_collection";
    case WalOp::kRenameCollection: return "rename_collection";
    case WalOp::kInsert: return "insert";
    case WalOp::kUpsert: return "upsert";
    case WalOp::kDelete: return "delete";
    case WalOp::kSeal: return "seal";
    case WalOp::kCheckpoint: return "checkpoint";
    case WalOp::kEpochStart: return "epoch_start";
    case WalOp::kCreateIndex: return "create_index";
    case WalOp::kDropIndex: return "drop_index";
    case WalOp::kEngineDefined: break;
  }
  return op >= static_cast<uint16_t>(WalOp::kEngineDefined) ? "engine_defined" : "unknown";
}

}  // namespace ark
