#include "client/csv.h"

#include <cctype>
#include <sstream>
#include <vector>

namespace relufit {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

bool looks_numeric(const std::string& s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' ||
                        s[0] == '+' || s[0] == '.');
}

}  // namespace

v1::SolveRequest request_from_csv(const std::string& path, const std::string& text,
                                  const CsvArchitecture& arch) {
  if (arch.input_dim == 0) throw CsvError("CSV input needs --input-dim");
  if (arch.hidden_width == 0) throw CsvError("CSV input needs --hidden-width");
  v1::SolveRequest req;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  uint32_t outputs = 0;
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) cells.push_back(trim(cell));
    if (req.dataset().samples_size() == 0 && outputs == 0 && !looks_numeric(cells[0])) continue;
    if (cells.size() <= arch.input_dim)
      throw CsvError(path + ":" + std::to_string(line_no) + ": needs more than " +
                     std::to_string(arch.input_dim) + " columns (inputs, then labels)");
    uint32_t k = static_cast<uint32_t>(cells.size() - arch.input_dim);
    if (outputs == 0) outputs = k;
    if (k != outputs)
      throw CsvError(path + ":" + std::to_string(line_no) + ": has " + std::to_string(cells.size()) +
                     " columns, earlier lines " + std::to_string(arch.input_dim + outputs));
    auto* s = req.mutable_dataset()->add_samples();
    for (uint32_t c = 0; c < cells.size(); ++c) (c < arch.input_dim ? s->add_x(cells[c]) : s->add_y(cells[c]));
  }
  auto* a = req.mutable_architecture();
  a->set_input_dim(arch.input_dim);
  a->set_hidden_width(arch.hidden_width);
  a->set_output_dim(outputs);
  a->set_hidden_bias(!arch.no_hidden_bias);
  a->set_output_bias(!arch.no_output_bias);
  return req;
}

}  // namespace relufit
