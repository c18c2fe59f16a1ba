#include "server/job_store.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <functional>

namespace relufit {
namespace {

// SQLite's failure as a StoreError naming the store.
[[noreturn]] void throw_store_error(sqlite3* db, const std::string& doing) {
  throw StoreError("job store: " + doing + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

bool corrupt(const StoreError& e) {
  const int c = e.sqlite_code() & 0xff;
  return c == SQLITE_CORRUPT || c == SQLITE_NOTADB || c == SQLITE_FORMAT;
}

// Finalizes a prepared statement on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) throw_store_error(db, "prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind(int i, const std::string& s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind_blob(int i, const std::string& s) { sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() {
    int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw_store_error(db_, "step");
    return rc;
  }
  std::string text(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }
  int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      throw_store_error(db_, "begin");
  }
  void commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) throw_store_error(db_, "commit");
    done_ = true;
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

// 16 bytes from the kernel's CSPRNG (getrandom), as 32 hex digits.
std::string random_hex128() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw StoreError("job store: getrandom failed, cannot make a job id", SQLITE_ERROR);
    }
    got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

// A row as stored, before any parsing.
struct RawRow {
  int64_t seq = 0;
  std::string id;
  int64_t state = 0;
  std::string state_reason, request, result, progress;
  int64_t created_ms = 0, started_ms = 0, finished_ms = 0, attempts = 0, verdict = 0;
  std::string checksum;
  std::string owner;
  int64_t kind = v1::JOB_KIND_SOLVE;
};

const char* kColumns =
    "seq, id, state, state_reason, request, result, progress, created_ms, started_ms, "
    "finished_ms, attempts, verdict, checksum, owner, kind";

RawRow read_raw(Statement& st) {
  RawRow r;
  r.seq = st.integer(0);
  r.id = st.text(1);
  r.state = st.integer(2);
  r.state_reason = st.text(3);
  r.request = st.text(4);
  r.result = st.text(5);
  r.progress = st.text(6);
  r.created_ms = st.integer(7);
  r.started_ms = st.integer(8);
  r.finished_ms = st.integer(9);
  r.attempts = st.integer(10);
  r.verdict = st.integer(11);
  r.checksum = st.text(12);
  r.owner = st.text(13);
  r.kind = st.integer(14);
  return r;
}

// SHA-256 (hex) over every field but seq, each length-prefixed.
std::string row_checksum(const RawRow& r) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    throw StoreError("job store: SHA-256 unavailable", SQLITE_ERROR);
  }
  auto field = [ctx](const std::string& s) {
    const uint64_t n = s.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    EVP_DigestUpdate(ctx, len, sizeof len);
    EVP_DigestUpdate(ctx, s.data(), s.size());
  };
  field("relufit.jobs.v1");
  field(r.id);
  field(std::to_string(r.state));
  field(r.state_reason);
  field(r.request);
  field(r.result);
  field(r.progress);
  field(std::to_string(r.created_ms));
  field(std::to_string(r.started_ms));
  field(std::to_string(r.finished_ms));
  field(std::to_string(r.attempts));
  field(std::to_string(r.verdict));
  // Rows written before owners existed have none, and Solve rows no kind:
  // the checksums of rows written before either existed stay valid. A row
  // of another kind always has both (an owner field, then the kind), so no
  // Solve row hashes like it.
  if (r.kind != v1::JOB_KIND_SOLVE) {
    field(r.owner);
    field("kind " + std::to_string(r.kind));
  } else if (!r.owner.empty()) {
    field(r.owner);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

// A stored text for a message: printable, at most 64 characters.
std::string shown(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > 64) out += "...";
  return out;
}

bool known_kind(int64_t kind) {
  return kind == v1::JOB_KIND_SOLVE || kind == v1::JOB_KIND_MINIMIZE || kind == v1::JOB_KIND_MIN_WIDTH;
}

// Parses the stored request and result (when stored) of the row's kind
// into their fields of *job; throws DamagedRow (`who`) when either fails.
void parse_payload(const RawRow& r, const std::string& who, v1::Job* job) {
  google::protobuf::Message *request = nullptr, *result = nullptr;
  const bool has_result = !r.result.empty();
  switch (r.kind) {
    case v1::JOB_KIND_MINIMIZE:
      request = job->mutable_minimize_request();
      if (has_result) result = job->mutable_minimize_result();
      break;
    case v1::JOB_KIND_MIN_WIDTH:
      request = job->mutable_min_width_request();
      if (has_result) result = job->mutable_min_width_result();
      break;
    default:
      request = job->mutable_request();
      if (has_result) result = job->mutable_result();
  }
  if (!request->ParseFromString(r.request))
    throw DamagedRow(who + " is damaged in the store: its request cannot be parsed");
  if (result && !result->ParseFromString(r.result))
    throw DamagedRow(who + " is damaged in the store: its result cannot be parsed");
}

// The job's result of the row's kind, or null when it has none.
const google::protobuf::Message* result_of(const v1::Job& job, int64_t kind) {
  switch (kind) {
    case v1::JOB_KIND_MINIMIZE: return job.has_minimize_result() ? &job.minimize_result() : nullptr;
    case v1::JOB_KIND_MIN_WIDTH: return job.has_min_width_result() ? &job.min_width_result() : nullptr;
    default: return job.has_result() ? &job.result() : nullptr;
  }
}

// The verdict column: the result's verdict, or for Minimize its status.
int64_t verdict_of(const v1::Job& job, int64_t kind) {
  switch (kind) {
    case v1::JOB_KIND_MINIMIZE: return job.minimize_result().status();
    case v1::JOB_KIND_MIN_WIDTH: return job.min_width_result().verdict();
    default: return job.result().verdict();
  }
}

// Verifies and parses a row; throws DamagedRow.
v1::Job to_job(const RawRow& r, bool with_payload) {
  const std::string who = "job " + shown(r.id) + " (row " + std::to_string(r.seq) + ")";
  if (r.checksum != row_checksum(r))
    throw DamagedRow(who + " is damaged in the store: its checksum does not match its contents");
  v1::Job job;
  job.set_job_id(r.id);
  if (!known_kind(r.kind))
    throw DamagedRow(who + " has kind " + std::to_string(r.kind) + ", unknown to this server");
  job.set_kind(static_cast<v1::JobKind>(r.kind));
  const bool minimize = r.kind == v1::JOB_KIND_MINIMIZE;
  const bool verdict_ok = minimize ? v1::MinimizeStatus_IsValid(static_cast<int>(r.verdict))
                                   : v1::Verdict_IsValid(static_cast<int>(r.verdict));
  if (!v1::JobState_IsValid(static_cast<int>(r.state)) || !verdict_ok)
    throw DamagedRow(who + " is damaged in the store: state or verdict out of range");
  job.set_state(static_cast<v1::JobState>(r.state));
  job.set_state_reason(r.state_reason);
  if (with_payload) parse_payload(r, who, &job);
  if (!job.mutable_progress()->ParseFromString(r.progress))
    throw DamagedRow(who + " is damaged in the store: its progress cannot be parsed");
  job.set_created_unix_ms(r.created_ms);
  job.set_started_unix_ms(r.started_ms);
  job.set_finished_unix_ms(r.finished_ms);
  job.set_attempts(static_cast<uint32_t>(r.attempts));
  if (minimize)
    job.set_minimize_status(static_cast<v1::MinimizeStatus>(r.verdict));
  else
    job.set_verdict(static_cast<v1::Verdict>(r.verdict));
  job.set_owner(r.owner);
  return job;
}

}  // namespace

v1::JobKind job_kind_of(const v1::SubmitJobRequest& request) {
  switch (request.job_case()) {
    case v1::SubmitJobRequest::kRequest: return v1::JOB_KIND_SOLVE;
    case v1::SubmitJobRequest::kMinimize: return v1::JOB_KIND_MINIMIZE;
    case v1::SubmitJobRequest::kMinWidth: return v1::JOB_KIND_MIN_WIDTH;
    default: return v1::JOB_KIND_UNSPECIFIED;
  }
}

bool job_has_result(const v1::Job& job) {
  return job.has_result() || job.has_minimize_result() || job.has_min_width_result();
}

void clear_job_request(v1::Job* job) {
  job->clear_request();
  job->clear_minimize_request();
  job->clear_min_width_request();
}

void clear_job_result(v1::Job* job) {
  job->clear_result();
  job->clear_minimize_result();
  job->clear_min_width_result();
  job->clear_verdict();
  job->clear_minimize_status();
}

JobStore::JobStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    int code = db_ ? sqlite3_extended_errcode(db_) : SQLITE_NOMEM;
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open job store " + path + ": " + msg, code);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec(
        "CREATE TABLE IF NOT EXISTS jobs ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " id TEXT NOT NULL UNIQUE,"
        " state INTEGER NOT NULL,"
        " state_reason TEXT NOT NULL DEFAULT '',"
        " request BLOB NOT NULL,"
        " result BLOB,"
        " progress BLOB,"
        " created_ms INTEGER NOT NULL DEFAULT 0,"
        " started_ms INTEGER NOT NULL DEFAULT 0,"
        " finished_ms INTEGER NOT NULL DEFAULT 0,"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " verdict INTEGER NOT NULL DEFAULT 0,"
        " checksum TEXT,"
        " owner TEXT NOT NULL DEFAULT '',"
        " kind INTEGER NOT NULL DEFAULT 1)");
    exec("CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq)");
    bool has_checksum = false, has_owner = false, has_kind = false;
    {
      Statement st(db_, "PRAGMA table_info(jobs)");
      while (st.step() == SQLITE_ROW) {
        has_checksum = has_checksum || st.text(1) == "checksum";
        has_owner = has_owner || st.text(1) == "owner";
        has_kind = has_kind || st.text(1) == "kind";
      }
    }
    if (!has_checksum) exec("ALTER TABLE jobs ADD COLUMN checksum TEXT");
    if (!has_owner) exec("ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''");
    // Rows from before Minimize and MinWidth jobs are Solve jobs (their
    // checksums leave the kind out, so they stay valid).
    if (!has_kind) exec("ALTER TABLE jobs ADD COLUMN kind INTEGER NOT NULL DEFAULT 1");
    exec("CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs(owner, seq)");
    add_missing_checksums();
    // Can it be written? (A full disk shows here, not at the first job.)
    exec("BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS write_probe (x INTEGER);"
         " INSERT INTO write_probe VALUES (1); DELETE FROM write_probe; COMMIT");
  } catch (const StoreError& e) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot use job store " + path + ": " + e.what(), e.sqlite_code());
  }
}

JobStore::~JobStore() {
  if (db_) {
    sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
}

void JobStore::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError("job store: " + msg, sqlite3_extended_errcode(db_));
  }
}

// Rows written before checksums existed get one, once, computed from what
// they hold now.
void JobStore::add_missing_checksums() {
  std::vector<RawRow> rows;
  {
    Statement st(db_, (std::string("SELECT ") + kColumns + " FROM jobs WHERE checksum IS NULL").c_str());
    while (st.step() == SQLITE_ROW) rows.push_back(read_raw(st));
  }
  if (rows.empty()) return;
  Transaction tx(db_);
  for (const RawRow& r : rows) {
    Statement st(db_, "UPDATE jobs SET checksum=? WHERE seq=?");
    st.bind(1, row_checksum(r));
    st.bind(2, r.seq);
    st.step();
  }
  tx.commit();
}

std::string JobStore::insert(const v1::SubmitJobRequest& request, int64_t now_ms, const std::string& owner) {
  RawRow r;
  r.owner = owner;
  r.kind = job_kind_of(request);
  switch (request.job_case()) {
    case v1::SubmitJobRequest::kRequest: request.request().SerializeToString(&r.request); break;
    case v1::SubmitJobRequest::kMinimize: request.minimize().SerializeToString(&r.request); break;
    case v1::SubmitJobRequest::kMinWidth: request.min_width().SerializeToString(&r.request); break;
    default: throw StoreError("job store: the job has no request", SQLITE_MISUSE);
  }
  std::lock_guard<std::mutex> lock(mu_);
  r.state = v1::JOB_STATE_QUEUED;
  r.created_ms = now_ms;
  for (int attempt = 0;; ++attempt) {
    r.id = "job-" + random_hex128();
    Statement st(db_,
                 "INSERT OR IGNORE INTO jobs (id, state, state_reason, request, result, progress, "
                 "created_ms, checksum, owner, kind) VALUES (?, ?, '', ?, NULL, NULL, ?, ?, ?, ?)");
    st.bind(1, r.id);
    st.bind(2, r.state);
    st.bind_blob(3, r.request);
    st.bind(4, now_ms);
    st.bind(5, row_checksum(r));
    st.bind(6, owner);
    st.bind(7, r.kind);
    st.step();
    if (sqlite3_changes(db_) == 1) {
      checkpoint();
      return r.id;
    }
    if (attempt > 10) throw StoreError("job store: cannot allocate a job id", SQLITE_ERROR);
  }
}

void JobStore::update(const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RawRow r;
  {
    Statement st(db_, (std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?").c_str());
    st.bind(1, job.job_id());
    if (st.step() != SQLITE_ROW) throw DamagedRow("job " + shown(job.job_id()) + " is no longer in the store");
    r = read_raw(st);
  }
  if (r.checksum != row_checksum(r))
    throw DamagedRow("job " + shown(r.id) + " (row " + std::to_string(r.seq) +
                     ") is damaged in the store: its checksum does not match its contents; not updated");
  r.state = job.state();
  r.state_reason = job.state_reason();
  job.progress().SerializeToString(&r.progress);
  r.started_ms = job.started_unix_ms();
  r.finished_ms = job.finished_unix_ms();
  r.attempts = job.attempts();
  // The result of the row's kind (the job came from load, so its kind is
  // the row's; a result of another kind is not written).
  if (const google::protobuf::Message* result = result_of(job, r.kind)) {
    result->SerializeToString(&r.result);
    r.verdict = verdict_of(job, r.kind);
  }
  Statement st(db_,
               "UPDATE jobs SET state=?, state_reason=?, progress=?, started_ms=?, finished_ms=?, "
               "attempts=?, result=?, verdict=?, checksum=? WHERE seq=?");
  st.bind(1, r.state);
  st.bind(2, r.state_reason);
  st.bind_blob(3, r.progress);
  st.bind(4, r.started_ms);
  st.bind(5, r.finished_ms);
  st.bind(6, r.attempts);
  st.bind_blob(7, r.result);
  st.bind(8, r.verdict);
  st.bind(9, row_checksum(r));
  st.bind(10, r.seq);
  st.step();
  tx.commit();
  if (r.state == v1::JOB_STATE_DONE || r.state == v1::JOB_STATE_CANCELLED || r.state == v1::JOB_STATE_INTERRUPTED)
    checkpoint();
}

// Copies the WAL into the database file (and syncs it): an acknowledged
// submit and a final result then live in the main file, so they survive
// even the loss of the -wal file after a crash. One connection holds the
// store, so the checkpoint is never held back by readers. TRUNCATE empties
// the -wal file afterwards: its space goes back to the filesystem, and a
// later write on a full disk fails at once (RESOURCE_EXHAUSTED) instead of
// depending on the space an earlier, larger WAL happened to hold. A failed
// checkpoint loses nothing: the commit is durable in the WAL (synchronous
// = FULL), as SQLite always guarantees.
void JobStore::checkpoint() {
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

std::optional<v1::Job> JobStore::load(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  RawRow r;
  try {
    Statement st(db_, (std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?").c_str());
    st.bind(1, id);
    if (st.step() != SQLITE_ROW) return std::nullopt;
    r = read_raw(st);
  } catch (const StoreError& e) {
    if (corrupt(e)) throw DamagedRow("job " + shown(id) + " cannot be read from the store: " + e.what());
    throw;
  }
  return to_job(r, true);
}

std::vector<v1::Job> JobStore::list(uint32_t limit, int64_t before_seq, v1::JobState state,
                                    int64_t* last_seq, std::vector<std::string>* damaged,
                                    const std::string* owner) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Job> out;
  *last_seq = 0;
  auto take = [&](const RawRow& r) {
    *last_seq = r.seq;
    try {
      out.push_back(to_job(r, false));
    } catch (const DamagedRow& e) {
      damaged->push_back(e.what());
    }
  };
  const int64_t before = before_seq > 0 ? before_seq : INT64_MAX;
  try {
    std::string sql = std::string("SELECT ") + kColumns + " FROM jobs WHERE seq < ?" +
                      (state != v1::JOB_STATE_UNSPECIFIED ? " AND state = ?" : "") +
                      (owner ? " AND owner = ?" : "") + " ORDER BY seq DESC LIMIT ?";
    Statement st(db_, sql.c_str());
    int i = 1;
    st.bind(i++, before);
    if (state != v1::JOB_STATE_UNSPECIFIED) st.bind(i++, static_cast<int64_t>(state));
    if (owner) st.bind(i++, *owner);
    st.bind(i, static_cast<int64_t>(limit));
    while (st.step() == SQLITE_ROW) take(read_raw(st));
    return out;
  } catch (const StoreError& e) {
    if (!corrupt(e)) throw;
    // Damaged pages: read row by row, newest first, and skip what fails.
    out.clear();
    damaged->clear();
    *last_seq = 0;
  }
  int64_t top = 0;
  {
    Statement st(db_, "SELECT max(seq) FROM jobs");
    if (st.step() == SQLITE_ROW) top = st.integer(0);
  }
  int64_t s = std::min(top, before - 1);
  for (int64_t tries = 0; s >= 1 && out.size() < limit && tries < 4 * int64_t{limit} + 1000; --s, ++tries) {
    try {
      Statement st(db_, (std::string("SELECT ") + kColumns + " FROM jobs WHERE seq=?").c_str());
      st.bind(1, s);
      if (st.step() != SQLITE_ROW) continue;
      RawRow r = read_raw(st);
      if (state != v1::JOB_STATE_UNSPECIFIED && r.state != state) continue;
      if (owner && r.owner != *owner) continue;
      take(r);
    } catch (const StoreError& e) {
      if (!corrupt(e)) throw;
      damaged->push_back("row " + std::to_string(s) + " cannot be read from the store: " + e.what());
      *last_seq = s;
    }
  }
  return out;
}

std::vector<std::string> JobStore::ids_in_state(v1::JobState state) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  Statement st(db_, "SELECT id FROM jobs WHERE state=? ORDER BY seq ASC");
  st.bind(1, static_cast<int64_t>(state));
  while (st.step() == SQLITE_ROW) out.push_back(st.text(0));
  return out;
}

}  // namespace relufit
