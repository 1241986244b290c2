#include "store/schema.h"

#include <array>
#include <string>

namespace folio::store {
namespace {

// v1: the model library and the downloads in progress.
constexpr const char* kStep1 = R"sql(
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    repo TEXT NOT NULL DEFAULT '',
    revision TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL DEFAULT '',
    architecture TEXT NOT NULL DEFAULT '',
    parameters INTEGER NOT NULL DEFAULT 0,
    context_length INTEGER NOT NULL DEFAULT 0,
    weight_type TEXT NOT NULL DEFAULT '',
    added INTEGER NOT NULL,
    last_used INTEGER NOT NULL DEFAULT 0,
    UNIQUE (repo, revision, file)
);
CREATE TABLE downloads (
    id INTEGER PRIMARY KEY,
    repo TEXT NOT NULL,
    revision TEXT NOT NULL,
    file TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    expected_size INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    bytes_done INTEGER NOT NULL DEFAULT 0,
    part_path TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'paused', 'failed')),
    error TEXT NOT NULL DEFAULT '',
    updated INTEGER NOT NULL,
    UNIQUE (repo, revision, file)
);
)sql";

// v2: the files of multi-part models, and tables for conversations, documents and settings.
constexpr const char* kStep2 = R"sql(
CREATE TABLE model_files (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL DEFAULT ''
);
CREATE INDEX model_files_model ON model_files(model_id);
INSERT INTO model_files (model_id, file, path, size, sha256)
    SELECT id, file, path, size, sha256 FROM models;
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    added INTEGER NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)sql";

// v3: the results of the Documents page (summaries, key points, answers) per document.
constexpr const char* kStep3 = R"sql(
CREATE TABLE document_results (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    question TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX document_results_document ON document_results(document_id);
)sql";

// v4: per-conversation settings of the desktop chat: a system prompt and sampling overrides
// (a JSON object; '' uses the app's defaults).
constexpr const char* kStep4 = R"sql(
ALTER TABLE conversations ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN sampling TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<const char*, 4> kSteps = {kStep1, kStep2, kStep3, kStep4};

}  // namespace

int schema_steps() {
    return static_cast<int>(kSteps.size());
}

void migrate(Database& db, int target) {
    const int current = static_cast<int>(db.query_int("PRAGMA user_version"));
    if (current > schema_steps()) {
        throw StoreError("the library database has schema version " + std::to_string(current) +
                         ", newer than this folio (" + std::to_string(schema_steps()) +
                         "): upgrade folio");
    }
    for (int v = current + 1; v <= target; ++v) {
        Transaction tx(db);
        db.exec(kSteps[static_cast<size_t>(v - 1)]);
        // PRAGMA takes no bound parameters; v is an int from this loop.
        db.exec(("PRAGMA user_version = " + std::to_string(v)).c_str());
        tx.commit();
    }
}

}  // namespace folio::store
