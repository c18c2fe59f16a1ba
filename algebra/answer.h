// Plain data for a request and its answer, numbers kept as the exact strings
// of the API. This is what crosses between the solver, the checker and the
// server's proto conversion; it mirrors proto/relufit/v1/relufit.proto
// without depending on protobuf or gRPC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace relufit {

// Training losses (proto Loss), over all samples i and outputs o of
// r_io = f_o(x_i) - y_io: L-infinity max |r_io|, L1 sum |r_io|, squared L2
// sum r_io^2.
enum class Loss { kUnspecified = 0, kLinf = 1, kL1 = 2, kL2 = 3 };
const char* loss_name(Loss loss);  // "linf", "l1", "l2", "unspecified"

// A request as received: architecture, samples (strings), options.
struct RequestData {
  uint32_t input_dim = 0;
  uint32_t hidden_width = 0;
  uint32_t output_dim = 0;
  bool hidden_bias = true;
  bool output_bias = true;
  std::vector<std::vector<std::string>> x;  // one entry per sample
  std::vector<std::vector<std::string>> y;  // one entry per sample
  // Error budget (SolveOptions.loss, max_error): empty or zero max_error asks
  // for zero error, the same question, search and certificates as without it.
  Loss loss = Loss::kUnspecified;
  std::string max_error;
};

enum class Verdict { kUnspecified = 0, kFeasible = 1, kInfeasible = 2, kUnknown = 3 };

const char* verdict_name(Verdict v);

struct NeuronData {
  std::vector<std::string> input_weights;   // w_j, input_dim exact strings
  std::string bias;                         // b_j, empty without hidden bias
  std::vector<std::string> output_weights;  // a_j, output_dim exact strings
};

struct NetworkData {
  std::vector<NeuronData> neurons;
  std::vector<std::string> output_bias;  // c, empty without output bias
  std::vector<std::string> activation;   // per sample, hidden_width chars
};

struct FarkasEntryData {
  uint32_t row = 0;
  std::string value;
};

enum class ProofNodeKind {
  kUnspecified = 0,
  kBranch = 1,
  kLpInfeasible = 2,
  kUnrealizable = 3,
  kPinnedDirection = 4,
  kProducts = 5,  // a degree-2 product (Positivstellensatz) certificate over the node rows
  kRatioBoxes = 6,  // a split tree over the output-weight ratios, a Farkas vector per box
  kErmBound = 10,  // an ErmTree leaf: the loss over the decided samples is at least `bound`
};

// One term of a KIND_PRODUCTS leaf (proto ProductTerm): a polynomial in the
// node LP's variables, named by kind and up to four indices, times an exact
// coefficient.
enum class ProductKind {
  kUnspecified = 0,
  kRow = 1,         // Q_a (inequality row a as "form - rhs")
  kRowProduct = 2,  // Q_a Q_b, a <= b inequality rows
  kMinor = 4,       // V_a[c] V_b[d] - V_a[d] V_b[c] (vector blocks a < b of one neuron, c < d)
  kSquare = 5,      // v_a^2
  kAligned = 6,     // tau_b (u_b)[c] (z_j)[c], block a = b of neuron j
};

struct ProductTermData {
  ProductKind kind = ProductKind::kUnspecified;
  uint32_t a = 0, b = 0, c = 0, d = 0;
  std::string coefficient;
};

// One entry of a KIND_RATIO_BOXES leaf's split tree (proto RatioBox), in
// preorder: a split of ratio rho_block at `threshold` (followed by the
// subtrees of rho <= threshold and rho >= threshold), or a box closed by
// `farkas` over the node's rows and then the box's rows.
struct RatioBoxData {
  bool split = false;
  uint32_t block = 0;
  std::string threshold;
  std::vector<FarkasEntryData> farkas;
};

struct ProofNodeData {
  uint32_t depth = 0;
  std::string activation;
  ProofNodeKind kind = ProofNodeKind::kUnspecified;
  uint32_t neuron = 0;
  std::vector<FarkasEntryData> farkas;
  std::vector<FarkasEntryData> kappa;  // for kPinnedDirection: (path position, coefficient)
  std::vector<ProductTermData> products;  // for kProducts
  std::vector<RatioBoxData> boxes;        // for kRatioBoxes
  std::string bound;                   // for kErmBound: the bound the vector proves (exact)
};

struct SignCaseData {
  std::vector<std::string> output_signs;  // per neuron, k characters '+', '-', '0'
  std::vector<uint32_t> sample_order;     // permutation of the samples, decided in this order

  std::vector<ProofNodeData> nodes;  // preorder
};

struct CaseTreeData {
  std::vector<SignCaseData> cases;
};

// One activation set's entry of a feature-span certificate (proto
// FeatureSpanPattern): for sigma = +1 (up) and -1 (down), multipliers mu
// (>= 0, one per sample's sign row) and eta (a vector orthogonal to the
// labels' span) with sigma g_P = sum_i mu_i s_i x~_i + sum_{i in P} eta_i x~_i.
struct FeatureSpanPatternData {
  std::vector<FarkasEntryData> mu_up, eta_up, mu_down, eta_down;
};

// Proof of infeasibility by the labels' span (proto FeatureSpan): lambda
// (one number per sample) and one entry per activation set P = 0 .. 2^n - 1
// (bit i: sample i); both empty when the labels' rank alone exceeds what
// the network can span.
struct FeatureSpanData {
  std::vector<std::string> lambda;
  std::vector<FeatureSpanPatternData> patterns;
};

struct CertificateData {
  enum class Kind { kNone, kConflictingPair, kCaseTree, kBreakpointBound, kErmTree, kFeatureSpan };
  Kind kind = Kind::kNone;
  uint32_t first = 0, second = 0;  // for kConflictingPair
  CaseTreeData case_tree;          // for kCaseTree
  // For kBreakpointBound (input_dim 1): output `breakpoint_output` needs at
  // least `min_breakpoints` slope changes, more than hidden_width neurons give.
  uint32_t breakpoint_output = 0;
  uint32_t min_breakpoints = 0;
  // For kErmTree (algebra/erm.h): case_tree's leaves are kErmBound (and
  // kUnrealizable) nodes proving loss > erm_threshold (strict) or
  // loss >= erm_threshold (not strict) on every pattern.
  Loss erm_loss = Loss::kUnspecified;
  std::string erm_threshold;
  bool erm_strict = true;
  FeatureSpanData feature_span;  // for kFeatureSpan
};

struct SolveStats {
  uint64_t nodes = 0;
  uint64_t lps_solved = 0;
  uint32_t max_depth = 0;
  double solve_seconds = 0;
  double check_seconds = 0;
};

struct AnswerData {
  Verdict verdict = Verdict::kUnspecified;
  std::string reason;
  NetworkData network;           // for kFeasible
  CertificateData certificate;   // for kInfeasible
  SolveStats stats;
  std::string check_summary;
};

}  // namespace relufit
