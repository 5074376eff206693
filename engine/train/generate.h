#pragma once
// Text generation from a trained model: temperature and top-k sampling (temperature 0: greedy).
// Recomputes the whole context per token (no KV cache): fine for the small models it serves.
#include "engine/data/bpe_tokenizer.h"
#include "engine/model/r1_model.h"

#include <string>

namespace r1::train {

struct SampleOptions {
  int64_t max_tokens = 200;
  double temperature = 0.8;
  int64_t top_k = 40;  // 0: all tokens
  uint64_t seed = 0;
};

std::string generate(model::R1Model& model, const data::BpeTokenizer& tok,
                     const std::string& prompt, const SampleOptions& opt,
                     const torch::Device& device);

}  // namespace r1::train

namespace r1::train {

// A model ready for inference, rebuilt from a checkpoint: its config (plus overrides such as
// train.device), weights and tokenizer. Errors name the checkpoint.
struct LoadedModel {
  Config config;
  model::R1Model model{nullptr};
  data::BpeTokenizer tokenizer;
  int64_t step = 0;
  torch::Device device{torch::kCPU};
};
LoadedModel load_for_inference(const std::string& checkpoint,
                               const std::vector<std::string>& overrides);

}  // namespace r1::train
