// Authentication in one place (server/auth.h): every RPC of the service, as
// its descriptor lists them, is refused without a valid token before its
// handler runs; an RPC added to the proto is covered without a change here.
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "server/auth.h"
#include "server/service.h"

namespace relufit {
namespace {

// One running server with a throwaway job store.
class Server {
 public:
  // With `checking` false the port gets plain InsecureServerCredentials
  // (no access check before the handlers).
  // With `bare` the service is the generated base class: no handler code at
  // all (every method UNIMPLEMENTED), so only the credentials can refuse.
  Server(const AccessOptions& access, bool checking, bool bare = false) {
    auto check = std::make_shared<const AccessCheck>(access);
    auto credentials = checking ? authenticating_credentials(check, nullptr) : grpc::InsecureServerCredentials();
    char dir[] = "/tmp/relufit-auth-test-XXXXXX";
    dir_ = mkdtemp(dir);
    store_ = std::make_unique<JobStore>(dir_ + "/jobs.sqlite3");
    jobs_ = std::make_unique<JobManager>(*store_, options_, JobOptions{});
    jobs_->start();
    service_ = std::make_unique<ReluFitServiceImpl>(options_, *jobs_, check);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", credentials, &port_);
    builder.RegisterService(bare ? static_cast<grpc::Service*>(&bare_) : service_.get());
    server_ = builder.BuildAndStart();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
  }
  ~Server() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    jobs_->stop();
    jobs_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The status of a call to `method` ("/pkg.Service/Method") with an empty
  // request message and, unless empty, this authorization header.
  grpc::Status call(const std::string& method, const std::string& authorization) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    grpc::CompletionQueue cq;
    grpc::ByteBuffer request, response;
    grpc::Slice empty("", 0);
    request = grpc::ByteBuffer(&empty, 1);
    auto rpc = stub.PrepareUnaryCall(&context, method, request, &cq);
    rpc->StartCall();
    grpc::Status status;
    rpc->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    return status;
  }

  bool started() const { return server_ && port_ != 0; }

 private:
  std::string dir_;
  ServiceOptions options_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<ReluFitServiceImpl> service_;
  v1::ReluFitService::Service bare_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

std::vector<std::string> every_method() {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      v1::ReluFitService::service_full_name());
  std::vector<std::string> out;
  if (!service) return out;
  for (int i = 0; i < service->method_count(); ++i)
    out.push_back("/" + service->full_name() + "/" + service->method(i)->name());
  return out;
}

AccessOptions two_tokens() {
  return parse_token_file("alice tok-alice-0123456789\nroot tok-root-0123456789 operator\n", "tokens");
}

TEST(Auth, EveryRpcOfTheServiceRefusesACallWithoutAValidToken) {
  const auto methods = every_method();
  ASSERT_GE(methods.size(), 8u) << "the service descriptor was not found or lost methods";
  for (const bool bare : {true, false}) {
    SCOPED_TRACE(bare ? "bare service" : "relufit service");
    Server server(two_tokens(), true, bare);
    ASSERT_TRUE(server.started());
    for (const auto& m : methods) {
      SCOPED_TRACE(m);
      for (const std::string& bad :
           {std::string(), std::string("Bearer "), std::string("Bearer wrong"),
            std::string("tok-alice-0123456789"), std::string("Bearer tok-alice-012345678"),
            std::string("Bearer tok-alice-01234567890"), std::string("bearer tok-alice-0123456789")}) {
        const grpc::Status st = server.call(m, bad);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "authorization \"" << bad << "\": "
                                                                      << st.error_message();
      }
      // The same call with a valid token passes the check (whatever the
      // handler then says of the empty request), so the refusals above are
      // the token check's.
      for (const char* good : {"Bearer tok-alice-0123456789", "Bearer tok-root-0123456789"}) {
        const grpc::Status st = server.call(m, good);
        EXPECT_NE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
        if (bare) {
          EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << st.error_message();
        }
      }
    }
    // Probes stay open.
    EXPECT_TRUE(server.call("/grpc.health.v1.Health/Check", "").ok());
  }
}

TEST(Auth, WithoutTokensEveryCallIsAdmitted) {
  Server server(AccessOptions{}, true);
  ASSERT_TRUE(server.started());
  EXPECT_TRUE(server.call("/relufit.v1.ReluFitService/ListJobs", "").ok());
}

// A server built without the checking credentials still refuses in the
// handlers (they identify the caller with the same AccessCheck).
TEST(Auth, HandlersRefuseCallsThatDidNotPassTheCheck) {
  Server server(two_tokens(), false);
  ASSERT_TRUE(server.started());
  for (const auto& m : every_method()) {
    SCOPED_TRACE(m);
    const grpc::Status st = server.call(m, "Bearer wrong");
    // A handler that does not exist yet answers UNIMPLEMENTED, which is
    // closed as well.
    EXPECT_TRUE(st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                st.error_code() == grpc::StatusCode::UNIMPLEMENTED)
        << st.error_code() << " " << st.error_message();
  }
}

TEST(Auth, AccessCheckNamesTheCaller) {
  const AccessCheck check(two_tokens());
  const char* why = nullptr;
  auto alice = check.identify({"Bearer tok-alice-0123456789"}, &why);
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->principal, "alice");
  EXPECT_FALSE(alice->all);
  auto root = check.identify({"Bearer tok-root-0123456789"}, &why);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->all);
  EXPECT_FALSE(check.identify({}, &why));
  EXPECT_FALSE(check.identify({"Bearer tok-alice-0123456789", "Bearer tok-alice-0123456789"}, &why));
  EXPECT_FALSE(check.identify({"Bearer tok-root-0123456789x"}, &why));
  ASSERT_NE(why, nullptr);
  EXPECT_STREQ(why, "invalid access token");
  const AccessCheck open{AccessOptions{}};
  auto anyone = open.identify({}, &why);
  ASSERT_TRUE(anyone);
  EXPECT_TRUE(anyone->all);
}

TEST(Auth, TokenFileNamesPrincipalsAndOperators) {
  const AccessOptions a = two_tokens();
  ASSERT_EQ(a.tokens.size(), 2u);
  EXPECT_EQ(a.tokens[0].principal, "alice");
  EXPECT_FALSE(a.tokens[0].operator_role);
  EXPECT_TRUE(a.tokens[1].operator_role);
  EXPECT_THROW(parse_token_file("a t\nb t\n", "f"), std::runtime_error);
  EXPECT_THROW(parse_token_file("# nothing\n", "f"), std::runtime_error);
}

}  // namespace
}  // namespace relufit
