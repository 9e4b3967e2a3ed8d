// WalCodec: the engine's WAL record bodies (the WAL itself only frames them).
//
//   kCreateCollection  JSON {"database", "name", "schema"} (collection id in the frame)
//   kDropCollection    empty
//   kRenameCollection  JSON {"database", "name"}: the new database and name
//   kInsert / kUpsert  a RowBatch: u32 codec version, u64 rows, u32 columns, then
//                      per column u8 type, u32 dim, u64 byte length, bytes
//                      (integers/Bool: i64 each; Float/Double: f64 each;
//                      VarChar/JSON: u32 length + bytes each; vectors: f32 each)
//   kDelete            u32 codec version, u8 key type, u64 count, keys
//                      (Int64: i64; VarChar: u32 length + bytes)
// All little-endian. Specified in docs/formats/manifest.md ("WAL bodies").
// Pure functions; Decode* return Corruption naming the record's position.
#pragma once

#include <string>
#include <vector>

#include "core/position.h"
#include "core/status.h"
#include "engine/row_batch.h"
#include "engine/schema.h"

namespace ark {

inline constexpr uint32_t kWalBodyVersion = 1;

// Engine-defined WAL ops (WalOp::kEngineDefined and up); bodies are JSON:
//   kOpCreateDatabase / kOpDropDatabase  {"database"}
//   kOpSetAlias                          {"database", "alias", "collectionId"}
//   kOpDropAlias                         {"database", "alias"}
//   kOpCreatePartition / kOpDropPartition {"partition", "id"} (collection id in the frame)
inline constexpr uint16_t kOpCreateDatabase = 100;
inline constexpr uint16_t kOpDropDatabase = 101;
inline constexpr uint16_t kOpSetAlias = 102;
inline constexpr uint16_t kOpDropAlias = 103;
// Partition ops carry the collection id in the frame; body {"partition", "id"}.
// Dropping a partition also deletes its rows (see Database::ApplyPartitionRecord).
inline constexpr uint16_t kOpCreatePartition = 104;
inline constexpr uint16_t kOpDropPartition = 105;
// {"database", "set": {key: value}, "drop": [key]}: database properties.
inline constexpr uint16_t kOpAlterDatabase = 106;
// 107 is kOpFileChange (engine/file_change.h).
// Collection ops with the collection id in the frame:
// {"set": {key: value}, "drop": [key]}: collection properties.
inline constexpr uint16_t kOpAlterCollection = 108;
// {"released": bool, "partitions": [name]}: the whole load state
// (CollectionLoadState) that holds from this record on.
inline constexpr uint16_t kOpSetLoadState = 109;

// The name of an operation for inspection: the WAL's own names, and the
// engine-defined ones ("create_database" ... "file_change").
std::string_view EngineOpName(uint16_t op);

struct CreateCollectionBody {
  std::string database;
  std::string name;
  CollectionSchema schema;
};
struct RenameCollectionBody {
  std::string database;
  std::string name;
};

std::string EncodeCreateCollection(const CreateCollectionBody& b);
Result<CreateCollectionBody> DecodeCreateCollection(std::string_view body, Position at);
std::string EncodeRenameCollection(const RenameCollectionBody& b);
Result<RenameCollectionBody> DecodeRenameCollection(std::string_view body, Position at);

std::string EncodeRows(const RowBatch& batch);
// EncodeRows in two steps, for encoding straight into the WAL's buffer
// (Wal::AppendInPlace): the body's exact size, then the body written to
// dst[0, EncodedRowsSize(batch)). The batch must be valid (ValidateBatch):
// each column holds num_rows values of its type.
size_t EncodedRowsSize(const RowBatch& batch);
void EncodeRowsTo(const RowBatch& batch, char* dst);
Result<RowBatch> DecodeRows(std::string_view body, Position at);

std::string EncodeKeys(DataType key_type, const std::vector<PrimaryKey>& keys);
Result<std::vector<PrimaryKey>> DecodeKeys(std::string_view body, Position at);

}  // namespace ark
