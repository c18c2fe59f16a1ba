#include "server/auth.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace relufit {
namespace {

// SHA-256 of a secret (32 bytes): fixed-length values to compare.
std::string digest_of(std::string_view secret) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(secret.data(), secret.size(), out, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 unavailable");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string_view view(const grpc_slice& s) {
  return {reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)), GRPC_SLICE_LENGTH(s)};
}

// Services that stay open with tokens configured: probes and tooling.
bool open_path(std::string_view path) {
  for (std::string_view prefix : {"/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/",
                                  "/grpc.reflection.v1.ServerReflection/"})
    if (path.substr(0, prefix.size()) == prefix) return true;
  return false;
}

// gRPC core's auth metadata processor: refuses what the AccessCheck does
// not admit; sets nothing (see auth.h on AuthContext properties).
class TokenCheck {
 public:
  explicit TokenCheck(std::shared_ptr<const AccessCheck> access) : access_(std::move(access)) {}

  static void process(void* state, grpc_auth_context*, const grpc_metadata* md, size_t num_md,
                      grpc_process_auth_metadata_done_cb done, void* user_data) {
    // No exception may cross gRPC's C code.
    try {
      static_cast<TokenCheck*>(state)->check(md, num_md, done, user_data);
    } catch (...) {
      done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, "the access check failed");
    }
  }
  static void destroy(void* state) { delete static_cast<TokenCheck*>(state); }

 private:
  void check(const grpc_metadata* md, size_t num_md, grpc_process_auth_metadata_done_cb done,
             void* user_data) const {
    std::string_view path;
    std::vector<std::string_view> authorization;
    for (size_t i = 0; i < num_md; ++i) {
      const std::string_view key = view(md[i].key);
      if (key == ":path") path = view(md[i].value);
      if (key == "authorization") authorization.push_back(view(md[i].value));
    }
    const char* why = nullptr;
    if (access_->open() || open_path(path) || access_->identify(authorization, &why))
      done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
    else
      done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, why);
  }

  std::shared_ptr<const AccessCheck> access_;
};

// grpc::ServerCredentials over a core credentials object that carries the
// processor.
class AuthenticatingCredentials final : public grpc::ServerCredentials {
 public:
  AuthenticatingCredentials(std::shared_ptr<const AccessCheck> access, const TlsKeyCert* tls) {
    if (tls) {
      grpc_ssl_pem_key_cert_pair pair{tls->private_key.c_str(), tls->cert_chain.c_str()};
      creds_ = grpc_ssl_server_credentials_create_ex(nullptr, &pair, 1,
                                                     GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, nullptr);
    } else {
      creds_ = grpc_insecure_server_credentials_create();
    }
    if (!creds_) throw std::runtime_error("cannot create the server credentials (bad TLS key or certificate?)");
    grpc_auth_metadata_processor processor;
    processor.process = &TokenCheck::process;
    processor.destroy = &TokenCheck::destroy;
    processor.state = new TokenCheck(std::move(access));
    grpc_server_credentials_set_auth_metadata_processor(creds_, processor);
  }
  ~AuthenticatingCredentials() override { grpc_server_credentials_release(creds_); }

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    throw std::logic_error("the access check is built into these credentials");
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* creds_ = nullptr;
};

}  // namespace

AccessOptions parse_token_file(const std::string& text, const std::string& path) {
  AccessOptions access;
  std::istringstream lines(text);
  size_t number = 0;
  std::set<std::string> seen;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty() || f[0][0] == '#') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    AccessToken t;
    if (f.size() == 1) {
      t.token = f[0];
      t.principal = "token-" + std::to_string(number);
    } else if (f.size() == 2 || (f.size() == 3 && f[2] == "operator")) {
      t.principal = f[0];
      t.token = f[1];
      t.operator_role = f.size() == 3;
    } else {
      throw std::runtime_error(where + "expected TOKEN, PRINCIPAL TOKEN or PRINCIPAL TOKEN operator");
    }
    if (!seen.insert(t.token).second) throw std::runtime_error(where + "the same token appears twice");
    access.tokens.push_back(std::move(t));
  }
  if (access.tokens.empty()) throw std::runtime_error(path + " holds no token");
  return access;
}

AccessCheck::AccessCheck(AccessOptions access) : access_(std::move(access)) {
  for (const auto& t : access_.tokens) digests_.push_back(digest_of(t.token));
}

std::optional<Viewer> AccessCheck::identify(const std::vector<std::string_view>& authorization,
                                            const char** why) const {
  if (open()) return Viewer{};  // no tokens: everyone sees every job
  if (authorization.empty()) {
    *why = "missing access token (authorization: Bearer ...)";
    return std::nullopt;
  }
  if (authorization.size() > 1) {
    *why = "more than one authorization header";
    return std::nullopt;
  }
  constexpr std::string_view prefix = "Bearer ";
  const std::string_view value = authorization[0];
  *why = "invalid access token";
  if (value.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string presented = digest_of(value.substr(prefix.size()));
  bool ok = false;
  size_t match = 0;
  for (size_t i = 0; i < digests_.size(); ++i) {  // every digest, no early exit
    const bool same = CRYPTO_memcmp(presented.data(), digests_[i].data(), digests_[i].size()) == 0;
    ok = same | ok;
    match = same ? i : match;
  }
  if (!ok) return std::nullopt;
  *why = nullptr;
  return Viewer{access_.tokens[match].principal, access_.tokens[match].operator_role};
}

std::shared_ptr<grpc::ServerCredentials> authenticating_credentials(std::shared_ptr<const AccessCheck> access,
                                                                    const TlsKeyCert* tls) {
  return std::make_shared<AuthenticatingCredentials>(std::move(access), tls);
}

grpc::Status caller_of(const AccessCheck& access, const grpc::ServerContext* context, Viewer* viewer) {
  std::vector<std::string_view> authorization;
  const auto range = context->client_metadata().equal_range("authorization");
  for (auto it = range.first; it != range.second; ++it)
    authorization.emplace_back(it->second.data(), it->second.size());
  const char* why = nullptr;
  auto who = access.identify(authorization, &why);
  if (!who) return {grpc::StatusCode::UNAUTHENTICATED, why};
  *viewer = *who;
  return grpc::Status::OK;
}

}  // namespace relufit
