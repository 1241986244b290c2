#pragma once
// The library's schema as an ordered list of migration steps. Step i (1-based) brings a database
// at user_version i-1 to user_version i; each step runs in its own transaction, so a crash leaves
// the database at a whole version.
#include "store/sqlite_handle.h"

namespace folio::store {

// Number of steps (== Library::kSchemaVersion).
int schema_steps();
// Applies the steps after PRAGMA user_version up to `target` (<= schema_steps()). Throws
// StoreError for a database newer than this build.
void migrate(Database& db, int target);

}  // namespace folio::store
