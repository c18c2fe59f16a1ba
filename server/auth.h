// Authentication in one place. Every call passes gRPC's auth metadata
// processor on the listening port's credentials before any handler runs:
// with access tokens configured, a call without a valid
// "authorization: Bearer <token>" is refused there with UNAUTHENTICATED,
// whatever its method, so an RPC added to the service later is covered
// without a line of its own. Only the health and reflection services stay
// open (probes). Handlers learn who called from caller_of(), which maps the
// same header through the same AccessCheck (and refuses too, so a server
// built without these credentials fails closed).
//
// Why not AuthContext properties for the principal: in gRPC 1.51 the
// processor's auth context is the connection's, shared by every call on it
// (properties added per call pile up and name every caller of the
// connection). Why not a server interceptor: gRPC C++ server interceptors
// cannot refuse a call. gRPC 1.51's C++ InsecureServerCredentials cannot
// take an AuthMetadataProcessor (it asserts), so the credentials are built
// on gRPC core's (insecure or TLS) server credentials, whose processor hook
// works for both.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/job_manager.h"

namespace relufit {

// One accepted access token and whom it names.
struct AccessToken {
  std::string token;
  std::string principal;     // owner of the jobs submitted with it
  bool operator_role = false;  // sees and cancels every principal's jobs
};

// Who may call: when `tokens` is not empty every call must carry
// "authorization: Bearer <one of the tokens>" (health and reflection stay
// open so probes work), and job calls see only the caller's principal's
// jobs (operators: all). Without tokens every caller sees every job.
struct AccessOptions {
  std::vector<AccessToken> tokens;
};

// Reads a token file: one token per line, "#" comments and blank lines
// skipped. A line "PRINCIPAL TOKEN" names the token's principal, "PRINCIPAL
// TOKEN operator" makes it an operator; a line with the token alone is its
// own principal "token-LINE". Throws std::runtime_error naming the line.
AccessOptions parse_token_file(const std::string& text, const std::string& path);

// PEM key and certificate chain for TLS.
struct TlsKeyCert {
  std::string private_key;
  std::string cert_chain;
};

// The token check: which caller an authorization header names. Tokens are
// compared as SHA-256 digests, every digest in constant time.
class AccessCheck {
 public:
  explicit AccessCheck(AccessOptions access);
  bool open() const { return access_.tokens.empty(); }
  // The caller named by the values of the call's "authorization" headers
  // (none, one, or several), or nullopt and `why` when refused.
  std::optional<Viewer> identify(const std::vector<std::string_view>& authorization, const char** why) const;

 private:
  AccessOptions access_;
  std::vector<std::string> digests_;
};

// Server credentials (plaintext when `tls` is null) whose auth metadata
// processor refuses every call `access` does not admit (health and
// reflection stay open).
std::shared_ptr<grpc::ServerCredentials> authenticating_credentials(std::shared_ptr<const AccessCheck> access,
                                                                    const TlsKeyCert* tls);

// The caller of a call as `access` identifies it: OK and its Viewer
// (principal, may see all), or UNAUTHENTICATED.
grpc::Status caller_of(const AccessCheck& access, const grpc::ServerContext* context, Viewer* viewer);

}  // namespace relufit
