#include "engine/train/generate.h"

namespace r1::train {

std::string generate(model::R1Model& model, const data::BpeTokenizer& tok,
                     const std::string& prompt, const SampleOptions& opt,
                     const torch::Device& device) {
  torch::NoGradGuard ng;
  model->eval();
  std::vector<int32_t> ids = tok.encode(prompt);
  if (ids.empty()) ids.push_back(tok.eot_id());
  const size_t n_prompt = ids.size();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(opt.seed);
  const int64_t ctx = model->cfg.max_seq_len;
  const int64_t vocab = tok.vocab_size();  // never sample ids the tokenizer can't decode
  for (int64_t i = 0; i < opt.max_tokens; ++i) {
    const size_t start = ids.size() > static_cast<size_t>(ctx) ? ids.size() - ctx : 0;
    std::vector<int64_t> window(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.end());
    auto input = torch::tensor(window, torch::kInt64).unsqueeze(0).to(device);
    auto logits = model->logits(input)[0][-1].to(torch::kFloat32).to(torch::kCPU)
                      .narrow(0, 0, vocab);
    int64_t next;
    if (opt.temperature <= 0) {
      next = logits.argmax().item<int64_t>();
    } else {
      logits = logits / opt.temperature;
      if (opt.top_k > 0 && opt.top_k < vocab) {
        auto kth = std::get<0>(logits.topk(opt.top_k)).min();
        logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
      }
      auto probs = torch::softmax(logits, 0);
      next = torch::multinomial(probs, 1, false, gen).item<int64_t>();
    }
    if (next == tok.eot_id()) break;
    ids.push_back(static_cast<int32_t>(next));
  }
  return tok.decode(std::vector<int32_t>(ids.begin() + static_cast<std::ptrdiff_t>(n_prompt),
                                         ids.end()));
}

}  // namespace r1::train

#include "engine/compat/torch_compat.h"
#include "engine/train/checkpoint.h"

#include <unistd.h>

#include <fstream>

namespace r1::train {

LoadedModel load_for_inference(const std::string& path,
                               const std::vector<std::string>& overrides) {
  CheckpointReader checkpoint(path);  // read and verified once
  const CheckpointMeta& meta = checkpoint.meta();
  LoadedModel lm;
  lm.config = config_from_string(meta.config_toml, path + " (embedded config)", overrides);
  lm.step = meta.step;
  if (lm.config.train.device != "cpu") {
    if (!compat::cuda_available())
      throw ConfigError("key 'train.device': '" + lm.config.train.device +
                        "' but no CUDA device is available");
    lm.device = torch::Device(lm.config.train.device == "cuda" ? "cuda:0"
                                                                : lm.config.train.device);
  }
  char tmpl[] = "/tmp/r1-tokenizer-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) throw CheckpointError(path + ": cannot create a temporary tokenizer file");
  ::close(fd);
  { std::ofstream(tmpl, std::ios::binary | std::ios::trunc) << meta.tokenizer_text; }
  try {
    lm.tokenizer = data::BpeTokenizer::load(tmpl);
  } catch (const std::exception& e) {
    ::unlink(tmpl);
    throw CheckpointError(path + ": embedded tokenizer: " + e.what());
  }
  ::unlink(tmpl);
  lm.model = model::R1Model(lm.config.model);
  checkpoint.restore(lm.model.get(), nullptr);
  lm.model->to(lm.device);
  return lm;
}

}  // namespace r1::train
