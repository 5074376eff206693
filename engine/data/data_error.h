#pragma once

#include <stdexcept>
#include <string>

namespace r1::data {

// Every message names the file (and line where relevant) and the reason, e.g.
// "tokenizer /r/tok.txt line 12: expected two token ids".
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace r1::data
