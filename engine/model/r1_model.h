#pragma once
// The DeepSeek-R1-style language model: embedding, pre-RMSNorm blocks (MLA + dense or MoE FFN),
// final norm, LM head (optionally tied), and multi-token prediction modules sharing both.
#include "engine/config/config.h"
#include "engine/model/mla.h"
#include "engine/model/moe.h"

#include <vector>

namespace r1::model {

struct BlockImpl : torch::nn::Module {
  BlockImpl(const ModelConfig& cfg, bool moe_ffn);
  torch::Tensor forward(const torch::Tensor& x, const Rope& rope);
  // The same block with its last residual add left to the caller: returns (h, ffn branch), the
  // output being h + branch. `pending` is the previous block's branch, added to x inside this
  // block's first norm (undefined: none). Every residual add then runs inside a norm's pass.
  std::pair<torch::Tensor, torch::Tensor> forward_pending(const torch::Tensor& x,
                                                          const torch::Tensor& pending,
                                                          const Rope& rope);
  RMSNorm attn_norm{nullptr}, ffn_norm{nullptr};
  MLA attn{nullptr};
  SwiGLU dense{nullptr};
  MoE moe{nullptr};
};
TORCH_MODULE(Block);

// One MTP depth: h_k = Block(W [norm(h_{k-1}); norm(emb(t_{i+k}))]), then its own output norm.
struct MTPModuleImpl : torch::nn::Module {
  explicit MTPModuleImpl(const ModelConfig& cfg);
  RMSNorm hnorm{nullptr}, enorm{nullptr}, out_norm{nullptr};
  torch::nn::Linear proj{nullptr};
  Block block{nullptr};
};
TORCH_MODULE(MTPModule);

struct LossParts {
  torch::Tensor loss;          // what backward() sees: main + lambda * mtp + balance
  torch::Tensor main;          // next-token cross-entropy (with label smoothing)
  torch::Tensor mtp;           // mean over depths (undefined when depth 0)
  torch::Tensor balance;       // sequence-wise balance loss (undefined when alpha 0)
};

struct ParamCounts {
  int64_t total = 0, active = 0, embedding = 0, mtp = 0;
};

struct R1ModelImpl : torch::nn::Module {
  explicit R1ModelImpl(const ModelConfig& cfg);

  // tokens: [B, T + mtp_depth + 1]. Position i predicts t_{i+1} (main) and t_{i+1+k} (MTP k).
  LossParts forward(const torch::Tensor& tokens, double label_smoothing = 0.0);
  // tokens: [B, T] -> next-token logits [B, T, vocab] (main head only).
  torch::Tensor logits(const torch::Tensor& tokens);

  std::vector<MoE> moe_layers() const;
  ParamCounts param_counts() const;
  // Forward+backward FLOPs per trained token (6·N_active matmul + attention), for MFU.
  double flops_per_token(int64_t seq_len) const;

  ModelConfig cfg;
  torch::nn::Embedding embed{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  RMSNorm norm{nullptr};
  torch::nn::Linear head{nullptr};
  torch::nn::ModuleList mtp{nullptr};

 private:
  torch::Tensor trunk(const torch::Tensor& tokens, const Rope& rope);
  torch::Tensor project(const torch::Tensor& h);
  torch::ScalarType rope_dtype() const;
};
TORCH_MODULE(R1Model);

}  // namespace r1::model
