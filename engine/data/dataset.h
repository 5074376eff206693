#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/data/bpe_tokenizer.h"
#include "engine/data/corpus.h"
#include "engine/data/token_file.h"

namespace r1::data {

struct DataOptions {
  std::vector<std::string> paths;  // files or folders, see load_corpus()
  int vocab_size = 8192;
  double val_fraction = 0.05;      // 0 <= val_fraction < 1
  std::string cache_dir;           // created if missing
  std::string tokenizer_path;      // exists: loaded; else, if set, the tokenizer is saved there
};

struct PreparedData {
  BpeTokenizer tokenizer;
  TokenFile tokens;
  size_t train_tokens = 0;  // [0, train_tokens) train, [train_tokens, tokens.size()) validation
  CorpusStats stats;
  std::string tokenizer_path;
  std::string token_path;
};

// Loads the corpus, loads or trains the tokenizer (trained ones are cached in cache_dir as
// tokenizer-<srcfp>-<vocab>.txt), encodes the documents and writes or reuses
// tokens-<tokfp>-<srcfp>.bin in cache_dir, then maps it. Documents are put in a fixed
// pseudo-random order (so that validation, the last val_fraction of the tokens, samples the
// whole corpus) and each one is followed by the end-of-text token. The fingerprints are
// 16 hex digits. Throws DataError.
PreparedData prepare_data(const DataOptions& options,
                          const std::function<void(const std::string&)>& log = {});

// Fingerprint of a document list (contents and boundaries, in order).
uint64_t source_fingerprint(const std::vector<std::string>& docs);

}  // namespace r1::data
