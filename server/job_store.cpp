#include "server/job_store.h"

#include <random>
#include <stdexcept>

namespace relufit {
namespace {

// Finalizes a prepared statement on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("job store: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, const std::string& s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind_blob(int i, const std::string& s) { sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() {
    int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      throw std::runtime_error(std::string("job store: ") + sqlite3_errmsg(db_));
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

std::string new_job_id() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string id = "job-";
  uint64_t v = rng();
  for (int i = 0; i < 12; ++i, v >>= 4) id.push_back(hex[v & 15]);
  return id;
}

const char* kColumns =
    "id, state, state_reason, request, result, progress, created_ms, started_ms, finished_ms, "
    "attempts, seq, verdict";

v1::Job read_row(Statement& st, bool with_payload) {
  v1::Job job;
  job.set_job_id(st.text(0));
  job.set_state(static_cast<v1::JobState>(st.integer(1)));
  job.set_state_reason(st.text(2));
  if (with_payload) {
    job.mutable_request()->ParseFromString(st.text(3));
    const std::string result = st.text(4);
    if (!result.empty()) job.mutable_result()->ParseFromString(result);
  }
  job.mutable_progress()->ParseFromString(st.text(5));
  job.set_created_unix_ms(st.integer(6));
  job.set_started_unix_ms(st.integer(7));
  job.set_finished_unix_ms(st.integer(8));
  job.set_attempts(static_cast<uint32_t>(st.integer(9)));
  job.set_verdict(static_cast<v1::Verdict>(st.integer(11)));
  return job;
}

}  // namespace

JobStore::JobStore(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open job store " + path + ": " + msg);
  }
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
      " verdict INTEGER NOT NULL DEFAULT 0)");
  exec("CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq)");
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
    throw std::runtime_error(std::string("job store: ") + msg);
  }
}

std::string JobStore::insert(const v1::SolveRequest& request, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string blob;
  request.SerializeToString(&blob);
  for (int attempt = 0;; ++attempt) {
    const std::string id = new_job_id();
    Statement st(db_, "INSERT OR IGNORE INTO jobs (id, state, request, created_ms) VALUES (?, ?, ?, ?)");
    st.bind(1, id);
    st.bind(2, static_cast<int64_t>(v1::JOB_STATE_QUEUED));
    st.bind_blob(3, blob);
    st.bind(4, now_ms);
    st.step();
    if (sqlite3_changes(db_) == 1) return id;
    if (attempt > 10) throw std::runtime_error("job store: cannot allocate a job id");
  }
}

void JobStore::update(const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string progress, result;
  job.progress().SerializeToString(&progress);
  const bool has_result = job.has_result();
  if (has_result) job.result().SerializeToString(&result);
  Statement st(db_, has_result
                        ? "UPDATE jobs SET state=?, state_reason=?, progress=?, started_ms=?, "
                          "finished_ms=?, attempts=?, result=?, verdict=? WHERE id=?"
                        : "UPDATE jobs SET state=?, state_reason=?, progress=?, started_ms=?, "
                          "finished_ms=?, attempts=? WHERE id=?");
  st.bind(1, static_cast<int64_t>(job.state()));
  st.bind(2, job.state_reason());
  st.bind_blob(3, progress);
  st.bind(4, job.started_unix_ms());
  st.bind(5, job.finished_unix_ms());
  st.bind(6, static_cast<int64_t>(job.attempts()));
  if (has_result) {
    st.bind_blob(7, result);
    st.bind(8, static_cast<int64_t>(job.result().verdict()));
    st.bind(9, job.job_id());
  } else {
    st.bind(7, job.job_id());
  }
  st.step();
}

std::optional<v1::Job> JobStore::load(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, (std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?").c_str());
  st.bind(1, id);
  if (st.step() != SQLITE_ROW) return std::nullopt;
  return read_row(st, true);
}

std::vector<v1::Job> JobStore::list(uint32_t limit, int64_t before_seq, v1::JobState state,
                                    int64_t* last_seq) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM jobs WHERE seq < ?" +
                    (state != v1::JOB_STATE_UNSPECIFIED ? " AND state = ?" : "") +
                    " ORDER BY seq DESC LIMIT ?";
  Statement st(db_, sql.c_str());
  int i = 1;
  st.bind(i++, before_seq > 0 ? before_seq : INT64_MAX);
  if (state != v1::JOB_STATE_UNSPECIFIED) st.bind(i++, static_cast<int64_t>(state));
  st.bind(i, static_cast<int64_t>(limit));
  std::vector<v1::Job> out;
  *last_seq = 0;
  while (st.step() == SQLITE_ROW) {
    out.push_back(read_row(st, false));
    *last_seq = st.integer(10);
  }
  return out;
}

std::vector<std::string> JobStore::ids_in_state(v1::JobState state) const {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "SELECT id FROM jobs WHERE state=? ORDER BY seq ASC");
  st.bind(1, static_cast<int64_t>(state));
  std::vector<std::string> out;
  while (st.step() == SQLITE_ROW) out.push_back(st.text(0));
  return out;
}

}  // namespace relufit
