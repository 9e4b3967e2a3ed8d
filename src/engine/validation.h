// Validation of a RowBatch against a collection schema, before it is logged.
//
// Checks what does not need the collection's current contents: column layout,
// vector dimensions, NaN/Inf in vectors, VarChar lengths, JSON well-formedness,
// a primary key repeated inside the batch. (Whether a key already exists is
// checked by the Database under its write lock: AlreadyExists on insert.)
// Every message names the collection, the field, the row and the expected and
// actual value. Thread-safe (pure functions).
#pragma once

#include <string_view>

#include "core/status.h"
#include "engine/row_batch.h"
#include "engine/schema.h"

namespace ark {

Status ValidateBatch(const CollectionSchema& schema, std::string_view collection,
                     const RowBatch& batch);

}  // namespace ark
