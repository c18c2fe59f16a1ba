// The job store and manager with the three kinds of job (Solve, Minimize,
// MinWidth): a store written before kinds existed opens with its rows as
// Solve jobs and their checksums intact; each kind's request and result
// round-trip; the kind is under the row checksum; Minimize and MinWidth
// jobs run through their pipelines, and a forged stored result (with a
// valid checksum) is caught by the re-check.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "server/convert.h"
#include "server/job_manager.h"
#include "server/job_store.h"

namespace relufit {
namespace {

// XOR with one neuron: least L-inf error 1/2, L1 error 1; smallest width 2
// (tests/unit/erm_test.cpp derives each by hand).
v1::SolveRequest xor_m1() {
  v1::SolveRequest r;
  std::string error;
  EXPECT_TRUE(parse_json(R"({"architecture": {"input_dim": 2, "hidden_width": 1, "output_dim": 1,
                                               "hidden_bias": true, "output_bias": true},
                             "dataset": {"samples": [{"x": ["0", "0"], "y": ["0"]}, {"x": ["1", "1"], "y": ["0"]},
                                                     {"x": ["1", "0"], "y": ["1"]}, {"x": ["0", "1"], "y": ["1"]}]}})",
                         &r, &error))
      << error;
  return r;
}

bool same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

v1::SubmitJobRequest solve_job() {
  v1::SubmitJobRequest s;
  *s.mutable_request() = xor_m1();
  return s;
}

v1::SubmitJobRequest minimize_job(v1::Loss loss) {
  v1::SubmitJobRequest s;
  *s.mutable_minimize()->mutable_request() = xor_m1();
  s.mutable_minimize()->set_loss(loss);
  return s;
}

v1::SubmitJobRequest min_width_job(uint32_t max_width) {
  v1::SubmitJobRequest s;
  *s.mutable_min_width()->mutable_request() = xor_m1();
  s.mutable_min_width()->set_max_width(max_width);
  return s;
}

// Runs SQL on the store's file with a connection of its own.
void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << statement << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/relufit-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/jobs.sqlite3";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(JobStoreTest, OldStoreMigratesItsRowsAsSolveJobs) {
  std::string id, unsummed;
  {
    JobStore store(path_);
    id = store.insert(solve_job(), 1000, "alice");
    unsummed = store.insert(solve_job(), 1001);
  }
  // The store as the server before job kinds wrote it: no kind column (and
  // one row from before checksums, which the server adds on open).
  sql(path_, "ALTER TABLE jobs DROP COLUMN kind");
  sql(path_, "UPDATE jobs SET checksum = NULL WHERE id = '" + unsummed + "'");
  JobStore store(path_);
  for (const std::string& each : {id, unsummed}) {
    auto job = store.load(each);
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->kind(), v1::JOB_KIND_SOLVE);
    EXPECT_TRUE(same(job->request(), xor_m1()));
    EXPECT_FALSE(job->has_minimize_request());
    EXPECT_FALSE(job_has_result(*job));
  }
  EXPECT_EQ(store.load(id)->owner(), "alice");
  // The migrated store takes jobs of the new kinds beside the old rows.
  const std::string minimize = store.insert(minimize_job(v1::LOSS_L1), 1002);
  EXPECT_EQ(store.load(minimize)->kind(), v1::JOB_KIND_MINIMIZE);
  int64_t last = 0;
  std::vector<std::string> damaged;
  auto listed = store.list(10, 0, v1::JOB_STATE_UNSPECIFIED, &last, &damaged);
  EXPECT_TRUE(damaged.empty()) << damaged.front();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].kind(), v1::JOB_KIND_MINIMIZE);
  EXPECT_EQ(listed[1].kind(), v1::JOB_KIND_SOLVE);
  EXPECT_EQ(listed[2].kind(), v1::JOB_KIND_SOLVE);
}

TEST_F(JobStoreTest, EachKindRoundTrips) {
  JobStore store(path_);
  const std::string m = store.insert(minimize_job(v1::LOSS_L1), 1000, "bob");
  const std::string w = store.insert(min_width_job(4), 1001);
  auto mj = store.load(m);
  ASSERT_TRUE(mj.has_value());
  EXPECT_EQ(mj->kind(), v1::JOB_KIND_MINIMIZE);
  EXPECT_TRUE(same(mj->minimize_request(), minimize_job(v1::LOSS_L1).minimize()));
  EXPECT_FALSE(mj->has_request());
  EXPECT_FALSE(mj->has_minimize_result());
  auto wj = store.load(w);
  ASSERT_TRUE(wj.has_value());
  EXPECT_EQ(wj->kind(), v1::JOB_KIND_MIN_WIDTH);
  EXPECT_EQ(wj->min_width_request().max_width(), 4u);
  EXPECT_FALSE(wj->has_request());

  // Results of each kind, with the summary the job list shows.
  mj->set_state(v1::JOB_STATE_DONE);
  mj->mutable_minimize_result()->set_status(v1::MINIMIZE_STATUS_OPTIMAL);
  mj->mutable_minimize_result()->set_optimal_error("1");
  store.update(*mj);
  wj->set_state(v1::JOB_STATE_DONE);
  wj->mutable_min_width_result()->set_verdict(v1::VERDICT_FEASIBLE);
  wj->mutable_min_width_result()->set_width(2);
  store.update(*wj);
  mj = store.load(m);
  EXPECT_EQ(mj->minimize_result().optimal_error(), "1");
  EXPECT_EQ(mj->minimize_status(), v1::MINIMIZE_STATUS_OPTIMAL);
  EXPECT_EQ(mj->verdict(), v1::VERDICT_UNSPECIFIED);
  EXPECT_EQ(mj->owner(), "bob");
  wj = store.load(w);
  EXPECT_EQ(wj->min_width_result().width(), 2u);
  EXPECT_EQ(wj->verdict(), v1::VERDICT_FEASIBLE);
  EXPECT_FALSE(wj->has_result());

  int64_t last = 0;
  std::vector<std::string> damaged;
  auto listed = store.list(10, 0, v1::JOB_STATE_DONE, &last, &damaged);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].kind(), v1::JOB_KIND_MIN_WIDTH);
  EXPECT_EQ(listed[0].verdict(), v1::VERDICT_FEASIBLE);
  EXPECT_EQ(listed[1].kind(), v1::JOB_KIND_MINIMIZE);
  EXPECT_EQ(listed[1].minimize_status(), v1::MINIMIZE_STATUS_OPTIMAL);
  for (const auto& j : listed) EXPECT_FALSE(j.has_minimize_request() || j.has_min_width_request() || job_has_result(j));
}

TEST_F(JobStoreTest, KindIsUnderTheChecksum) {
  std::string m, s, owned;
  {
    JobStore store(path_);
    m = store.insert(minimize_job(v1::LOSS_LINF), 1000);
    s = store.insert(solve_job(), 1001);
    owned = store.insert(solve_job(), 1002, "kind 2");
  }
  sql(path_, "UPDATE jobs SET kind = 1 WHERE id = '" + m + "'");
  sql(path_, "UPDATE jobs SET kind = 3 WHERE id = '" + s + "'");
  // A Solve row whose owner reads like a kind must not pass as a job of
  // another kind without an owner.
  sql(path_, "UPDATE jobs SET kind = 2, owner = '' WHERE id = '" + owned + "'");
  JobStore store(path_);
  for (const std::string& id : {m, s, owned}) {
    try {
      store.load(id);
      ADD_FAILURE() << id << ": an edited kind was served";
    } catch (const DamagedRow& e) {
      EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(store.insert(v1::SubmitJobRequest(), 1003), StoreError);
}

// Polls the manager until the job has finished.
v1::Job wait_finished(JobManager& jobs, const std::string& id) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < until) {
    auto job = jobs.get(id, true);
    if (job && (job->state() == v1::JOB_STATE_DONE || job->state() == v1::JOB_STATE_CANCELLED ||
                job->state() == v1::JOB_STATE_INTERRUPTED))
      return *job;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "job " << id << " did not finish";
  return {};
}

TEST_F(JobStoreTest, MinimizeAndMinWidthJobsRunCheckedAndReChecked) {
  ServiceOptions options;
  std::string m, w;
  {
    JobStore store(path_);
    JobManager jobs(store, options, JobOptions{});
    jobs.start();
    std::string message;
    ValidationError validation;
    ASSERT_EQ(jobs.submit(minimize_job(v1::LOSS_LINF), &m, &message, &validation), JobManager::SubmitError::kNone)
        << message;
    ASSERT_EQ(jobs.submit(min_width_job(4), &w, &message, &validation), JobManager::SubmitError::kNone) << message;
    // Validated as the RPCs validate: no request at all, a width past the limit.
    std::string none;
    EXPECT_EQ(jobs.submit(v1::SubmitJobRequest(), &none, &message, &validation),
              JobManager::SubmitError::kInvalid);
    EXPECT_EQ(jobs.submit(min_width_job(options.limits.max_hidden_width + 1), &none, &message, &validation),
              JobManager::SubmitError::kInvalid);
    EXPECT_EQ(validation.code, ValidationError::Code::kResourceExhausted) << message;

    v1::Job mj = wait_finished(jobs, m);
    ASSERT_EQ(mj.state(), v1::JOB_STATE_DONE) << mj.state_reason();
    EXPECT_EQ(mj.kind(), v1::JOB_KIND_MINIMIZE);
    EXPECT_EQ(mj.minimize_status(), v1::MINIMIZE_STATUS_OPTIMAL);
    EXPECT_EQ(mj.minimize_result().optimal_error(), "1/2");
    EXPECT_FALSE(mj.minimize_result().check_summary().empty());
    EXPECT_EQ(mj.progress().num_samples(), 4u);
    v1::Job wj = wait_finished(jobs, w);
    ASSERT_EQ(wj.state(), v1::JOB_STATE_DONE) << wj.state_reason();
    EXPECT_EQ(wj.verdict(), v1::VERDICT_FEASIBLE);
    EXPECT_EQ(wj.min_width_result().width(), 2u);
    EXPECT_EQ(wj.min_width_result().below().verdict(), v1::VERDICT_INFEASIBLE);
    auto without = jobs.get(m, false);
    ASSERT_TRUE(without.has_value());
    EXPECT_FALSE(without->has_minimize_request());
    EXPECT_TRUE(without->has_minimize_result());
    jobs.stop();

    // A forged optimum written through the store: its checksum is valid.
    mj.mutable_minimize_result()->set_optimal_error("1/4");
    store.update(mj);
  }
  JobStore store(path_);
  JobManager jobs(store, options, JobOptions{});
  jobs.start();
  try {
    jobs.get(m, false);
    ADD_FAILURE() << "a forged Minimize result was served";
  } catch (const DamagedRow& e) {
    EXPECT_NE(std::string(e.what()).find("independent checker"), std::string::npos) << e.what();
  }
  auto wj = jobs.get(w, false);  // the untouched MinWidth result passes the re-check
  ASSERT_TRUE(wj.has_value());
  EXPECT_EQ(wj->min_width_result().width(), 2u);
  jobs.stop();
}

}  // namespace
}  // namespace relufit
