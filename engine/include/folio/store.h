#pragma once
// folio::store — the local model library (SQLite) and its resumable, verified downloads.
//
// Layout of a data folder (Library::default_data_dir(): $FOLIO_DATA_DIR, else
// $XDG_DATA_HOME/folio, else ~/.local/share/folio):
//   folio.db                          WAL mode, foreign keys on, PRAGMA user_version = schema
//   models/<owner>/<name>/<file>      verified model files; <file>.part while downloading
//
// Crash safety: a model row (and its files) is inserted only after every file's sha256 was
// verified and the file renamed into place, in one transaction; opening a Library reconciles
// the rows with the disk (rows whose file is missing or has the wrong size are removed and
// reported). A .part file belongs to a row of the downloads table and is resumed from there.
//
// Threads: Library and DownloadManager are thread-safe. Callbacks run on download threads.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "folio/hub.h"

namespace folio::store {

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// One file of a model (a multi-part GGUF has several, the first one is loaded).
struct ModelFile {
    std::string file;  // path inside the repo
    std::filesystem::path path;
    int64_t size = 0;
    std::string sha256;  // lowercase hex
};

struct ModelRecord {
    int64_t id = 0;
    std::string repo;            // "owner/name"; empty for a file added by hand
    std::string revision;        // "main", a branch or a commit
    std::string file;            // the first file's path inside the repo
    std::filesystem::path path;  // the first file on disk (what the engine loads)
    int64_t size = 0;            // bytes of all files
    std::string sha256;          // the first file's
    std::string architecture;    // general.architecture; may be empty
    int64_t parameters = 0;      // 0 when unknown
    int64_t context_length = 0;  // 0 when unknown
    std::string weight_type;     // "Q4_K_M", "F16", ...; may be empty
    int64_t added = 0;           // unix seconds
    int64_t last_used = 0;       // unix seconds; 0: never
    std::vector<ModelFile> files;
};

enum class DownloadState { Queued, Running, Paused, Failed };
const char* download_state_name(DownloadState state);

// A row of the downloads table: one file being fetched into <dest>.part.
struct DownloadRecord {
    int64_t id = 0;
    std::string repo, revision, file, url;
    int64_t expected_size = 0;
    std::string sha256;  // expected; empty when the hub did not say
    int64_t bytes_done = 0;
    std::filesystem::path part_path;
    DownloadState state = DownloadState::Queued;
    std::string error;
    int64_t updated = 0;  // unix seconds
};

struct ReconcileReport {
    std::vector<std::string> removed;  // "<path>: missing" / "<path>: size 12, expected 34"
    std::vector<std::filesystem::path> orphan_parts;  // .part files with no downloads row (deleted)
};

class Library {
  public:
    static constexpr int kSchemaVersion = 4;

    // $FOLIO_DATA_DIR, else $XDG_DATA_HOME/folio, else $HOME/.local/share/folio.
    static std::filesystem::path default_data_dir();

    // Opens or creates <data_dir>/folio.db, migrates it to kSchemaVersion and reconciles.
    // Throws StoreError (a corrupt or newer database, an unwritable folder).
    explicit Library(const std::filesystem::path& data_dir);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const std::filesystem::path& data_dir() const;
    std::filesystem::path db_path() const;
    std::filesystem::path models_dir() const;
    // models/<owner>/<name>/<file>; throws StoreError for a repo or file that would escape it.
    std::filesystem::path model_path(const std::string& repo, const std::string& file) const;

    // What the last reconcile (the one on open, or an explicit call) found.
    ReconcileReport last_reconcile() const;
    ReconcileReport reconcile();

    std::vector<ModelRecord> models() const;
    std::optional<ModelRecord> find_model(int64_t id) const;
    // By the path of any of its files (compared after weakly_canonical).
    std::optional<ModelRecord> find_model_by_path(const std::filesystem::path& path) const;
    std::optional<ModelRecord> find_model(const std::string& repo, const std::string& revision,
                                          const std::string& file) const;

    // Registers a model whose files are in place (each must exist with its size). Architecture,
    // parameters, context length and weight type are read from the GGUF header when not set.
    // Removes the downloads rows of its files in the same transaction. Returns the new id;
    // an existing row for the same repo/revision/file is replaced. Throws StoreError and
    // leaves the database unchanged on bad input.
    int64_t add_model(ModelRecord model);
    // Deletes the row (and, when delete_files, its files and empty parent folders).
    // Throws StoreError for an unknown id.
    void remove_model(int64_t id, bool delete_files = true);
    void touch_model(int64_t id);

    // The downloads table. upsert keys on (repo, revision, file) and returns the row id.
    int64_t upsert_download(const DownloadRecord& record);
    void update_download(int64_t id, int64_t bytes_done, DownloadState state,
                         const std::string& error);
    void remove_download(int64_t id);
    std::vector<DownloadRecord> downloads() const;
    std::optional<DownloadRecord> find_download(const std::string& repo,
                                                const std::string& revision,
                                                const std::string& file) const;

    int schema_version() const;
    std::string integrity_check() const;  // "ok" when healthy
    std::string journal_mode() const;     // "wal"
    bool foreign_keys() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// ---- conversations ------------------------------------------------------------------------

struct ConversationRecord {
    int64_t id = 0;
    std::string title;
    int64_t model_id = 0;       // models.id; 0: none (or the model was removed)
    int64_t created = 0;        // unix seconds
    int64_t updated = 0;        // unix seconds; bumped by every message added or changed
    std::string system_prompt;  // "" : none
    // Sampling overrides as a JSON object (e.g. {"temperature":0.7,"max_tokens":256});
    // "": the app's defaults. The store keeps the text; callers validate it.
    std::string sampling;
};

struct MessageRecord {
    int64_t id = 0;
    int64_t conversation_id = 0;
    std::string role;  // "system", "user", "assistant" or "tool"
    std::string content;
    int64_t created = 0;  // unix seconds
};

// The conversations and messages tables of a Library's folio.db, over a connection of its own
// (WAL lets it work beside the Library's). Thread-safe. Unknown ids and bad roles throw
// StoreError and change nothing.
class ConversationStore {
  public:
    // The library must have opened (and so migrated) the database; it need not outlive this.
    explicit ConversationStore(const Library& library);
    ~ConversationStore();
    ConversationStore(const ConversationStore&) = delete;
    ConversationStore& operator=(const ConversationStore&) = delete;

    // Most recently updated first (ties: newest id first).
    std::vector<ConversationRecord> conversations() const;
    std::optional<ConversationRecord> find_conversation(int64_t id) const;
    int64_t create_conversation(const std::string& title, int64_t model_id = 0);
    void rename_conversation(int64_t id, const std::string& title);
    // model_id 0 clears the conversation's model. An unknown model id throws.
    void set_conversation_model(int64_t id, int64_t model_id);
    void set_system_prompt(int64_t id, const std::string& system_prompt);
    void set_sampling(int64_t id, const std::string& sampling_json);
    // Conversations whose title or any message contains `text` (case-insensitive for ASCII),
    // most recently updated first. An empty text lists them all.
    std::vector<ConversationRecord> search_conversations(const std::string& text) const;
    // Its messages go with it.
    void delete_conversation(int64_t id);

    // Oldest first.
    std::vector<MessageRecord> messages(int64_t conversation_id) const;
    int64_t add_message(int64_t conversation_id, const std::string& role,
                        const std::string& content);
    void update_message(int64_t message_id, const std::string& content);
    // Deletes the message and every later one of its conversation (regenerate, edit and
    // resend); returns how many went. Throws for an unknown message id.
    int delete_messages_from(int64_t message_id);

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// ---- settings -------------------------------------------------------------------------------

// The settings table (key -> text value) of a Library's folio.db, over a connection of its own.
// Thread-safe. Callers choose the keys ("engine.threads", "api.port", ...) and the text encoding.
class SettingsStore {
  public:
    // The library must have opened (and so migrated) the database; it need not outlive this.
    explicit SettingsStore(const Library& library);
    ~SettingsStore();
    SettingsStore(const SettingsStore&) = delete;
    SettingsStore& operator=(const SettingsStore&) = delete;

    std::optional<std::string> get(const std::string& key) const;
    // The value, or `fallback` when the key is not set.
    std::string get_or(const std::string& key, const std::string& fallback) const;
    // Inserts or replaces.
    void set(const std::string& key, const std::string& value);
    // Forgets the key (nothing happens for an unknown one).
    void remove(const std::string& key);
    // Every (key, value), ordered by key.
    std::vector<std::pair<std::string, std::string>> all() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// ---- documents ------------------------------------------------------------------------------

struct DocumentRecord {
    int64_t id = 0;
    std::string path, title, sha256;
    int64_t added = 0;  // unix seconds
};

struct DocumentResultRecord {
    int64_t id = 0;
    int64_t document_id = 0;
    std::string task;  // "summarize", "keypoints", "ask"
    std::string question;
    std::string result;
    int64_t created = 0;  // unix seconds
};

// The documents and document_results (schema v3) tables of a Library's folio.db, over a
// connection of its own. Thread-safe. Unknown ids throw StoreError and change nothing.
class DocumentStore {
  public:
    explicit DocumentStore(const Library& library);
    ~DocumentStore();
    DocumentStore(const DocumentStore&) = delete;
    DocumentStore& operator=(const DocumentStore&) = delete;

    // Inserts the document, or updates the title and sha256 of the one with that path; its id.
    int64_t add_document(const std::string& path, const std::string& title,
                         const std::string& sha256);
    std::optional<DocumentRecord> find_document(int64_t id) const;
    // Every document, newest first (by when it was added; ties by id).
    std::vector<DocumentRecord> documents() const;
    // Its results go with it.
    void remove_document(int64_t id);
    int64_t add_result(int64_t document_id, const std::string& task, const std::string& question,
                       const std::string& result);
    // Oldest first.
    std::vector<DocumentResultRecord> results(int64_t document_id) const;
    // One result; its document stays.
    void remove_result(int64_t result_id);

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Sha256 of a whole file as lowercase hex; throws StoreError when unreadable.
std::string sha256_file(const std::filesystem::path& path);

// ---- downloads ------------------------------------------------------------------------------

struct DownloadProgress {
    std::string repo, file;  // the file being transferred now
    int64_t bytes_done = 0;  // over all files of the model
    int64_t total = 0;
    double rate = 0;       // bytes per second, smoothed
    double eta_s = -1;     // -1 when unknown
    bool resumed = false;  // this file continued from an existing .part
    bool waiting = false;  // another process is pulling `file`; this pull waits for it
};
using ProgressCallback = std::function<void(const DownloadProgress&)>;

// What to fetch: files of one repo revision, as the hub lists them (size, sha256). Several
// files make one multi-part model, registered once all of them are verified.
struct PullSpec {
    std::string repo;
    std::string revision = "main";
    std::vector<hub::RepoFile> files;
};

class DownloadError : public std::runtime_error {
  public:
    enum class Kind { Cancelled, Hub, Integrity, DiskSpace, Io };
    DownloadError(Kind kind, const std::string& message)
        : std::runtime_error(message), m_kind(kind) {}
    Kind kind() const { return m_kind; }

  private:
    Kind m_kind;
};

// One pull in flight. Shared by every caller that asked for the same files.
class DownloadTask {
  public:
    virtual ~DownloadTask() = default;
    // Blocks until done; returns the registered model or throws DownloadError.
    virtual ModelRecord wait() = 0;
    virtual bool done() const = 0;
    // Asks the transfer to stop soon; the .part and the downloads row stay for resuming.
    virtual void cancel() = 0;
    // Adds a progress listener (called on the download thread).
    virtual void on_progress(ProgressCallback callback) = 0;
};

struct DownloadOptions {
    int max_parallel = 2;          // transfers at once
    int max_attempts = 5;          // per file, for transient hub errors
    int backoff_initial_ms = 250;  // doubled each retry
    int backoff_max_ms = 8000;
    // Free bytes on the file system holding `dir`; default statvfs. Injectable for tests.
    std::function<int64_t(const std::filesystem::path& dir)> free_space;
};

class DownloadManager {
  public:
    // The library must outlive the manager. Destruction cancels and joins every transfer.
    DownloadManager(Library& library, hub::HubConfig config, DownloadOptions options = {});
    ~DownloadManager();
    DownloadManager(const DownloadManager&) = delete;
    DownloadManager& operator=(const DownloadManager&) = delete;

    // Starts the pull (queued behind max_parallel others), or joins the one in flight for the
    // same repo, revision and files. Already in the library: a finished task for that model.
    // Throws DownloadError(DiskSpace) at once when the files cannot fit.
    std::shared_ptr<DownloadTask> pull(const PullSpec& spec, ProgressCallback on_progress = {});
    // Transfers started over the network (not joined, not already present) — for tests.
    int transfers_started() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

}  // namespace folio::store
