#include "engine/model/r1_model.h"

#include "engine/model/ops/fused_ops.h"

namespace r1::model {

namespace F = torch::nn::functional;

BlockImpl::BlockImpl(const ModelConfig& c, bool moe_ffn) {
  attn_norm = register_module("attn_norm", RMSNorm(c.dim, c.norm_eps));
  attn = register_module("attn", MLA(c));
  ffn_norm = register_module("ffn_norm", RMSNorm(c.dim, c.norm_eps));
  if (moe_ffn) moe = register_module("moe", MoE(c));
  else dense = register_module("dense", SwiGLU(c.dim, c.dense_inter));
}

std::pair<torch::Tensor, torch::Tensor> BlockImpl::forward_pending(const torch::Tensor& x,
                                                                   const torch::Tensor& pending,
                                                                   const Rope& rope) {
  torch::Tensor h = x, a;
  if (pending.defined()) std::tie(h, a) = attn_norm->add_forward(x, pending);
  else a = attn_norm(x);
  auto [h2, f] = ffn_norm->add_forward(h, attn(a, rope));
  return {h2, moe ? moe(f) : dense(f)};
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const Rope& rope) {
  auto [h, branch] = forward_pending(x, torch::Tensor(), rope);
  return h + branch;
}

MTPModuleImpl::MTPModuleImpl(const ModelConfig& c) {
  hnorm = register_module("hnorm", RMSNorm(c.dim, c.norm_eps));
  enorm = register_module("enorm", RMSNorm(c.dim, c.norm_eps));
  proj = register_module("proj", linear(2 * c.dim, c.dim));
  block = register_module("block", Block(c, /*moe_ffn=*/false));
  out_norm = register_module("out_norm", RMSNorm(c.dim, c.norm_eps));
}

R1ModelImpl::R1ModelImpl(const ModelConfig& c) : cfg(c) {
  embed = register_module("embed", torch::nn::Embedding(c.vocab_size, c.dim));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.n_layers; ++i) blocks->push_back(Block(c, i >= c.dense_layers));
  norm = register_module("norm", RMSNorm(c.dim, c.norm_eps));
  if (!c.tie_embeddings) head = register_module("head", linear(c.dim, c.vocab_size));
  mtp = register_module("mtp", torch::nn::ModuleList());
  for (int64_t k = 0; k < c.mtp_depth; ++k) mtp->push_back(MTPModule(c));

  torch::NoGradGuard ng;
  for (auto& p : named_parameters()) {
    const auto& name = p.key();
    if (name.find("norm") != std::string::npos) continue;  // RMSNorm weights stay 1
    torch::nn::init::normal_(p.value(), 0.0, c.init_std);
  }
}

torch::ScalarType R1ModelImpl::rope_dtype() const {
  return embed->weight.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

torch::Tensor R1ModelImpl::project(const torch::Tensor& h) {
  return head ? head(h) : F::linear(h, embed->weight);
}

torch::Tensor R1ModelImpl::trunk(const torch::Tensor& tokens, const Rope& rope) {
  auto h = embed(tokens);
  torch::Tensor pending;  // each block's FFN output, added inside the next block's first norm
  for (const auto& b : *blocks)
    std::tie(h, pending) = b->as<BlockImpl>()->forward_pending(h, pending, rope);
  return pending.defined() ? h + pending : h;
}

torch::Tensor R1ModelImpl::logits(const torch::Tensor& tokens) {
  auto rope = make_rope(tokens.size(1), cfg.qk_rope_head_dim, cfg.rope_theta, tokens.device(),
                        rope_dtype());
  return project(norm(trunk(tokens, rope)));
}

LossParts R1ModelImpl::forward(const torch::Tensor& tokens, double label_smoothing) {
  const int64_t D = cfg.mtp_depth;
  const int64_t T = tokens.size(1) - D - 1;
  TORCH_CHECK(T >= 1, "sequence too short for mtp_depth ", D);
  auto rope = make_rope(T, cfg.qk_rope_head_dim, cfg.rope_theta, tokens.device(), rope_dtype());
  auto ce = [&](const torch::Tensor& logits, const torch::Tensor& target) {
    return ops::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}),
                              label_smoothing);  // fused kernel on CUDA, ATen elsewhere
  };

  LossParts out;
  auto h = trunk(tokens.narrow(1, 0, T), rope);
  out.main = ce(project(norm(h)), tokens.narrow(1, 1, T));
  out.loss = out.main;
  if (D > 0) {
    auto prev = h;
    torch::Tensor sum;
    for (int64_t k = 1; k <= D; ++k) {
      auto* m = mtp[k - 1]->as<MTPModuleImpl>();
      auto e = embed(tokens.narrow(1, k, T));
      auto hk = m->block(m->proj(torch::cat({m->hnorm(prev), m->enorm(e)}, -1)), rope);
      auto lk = ce(project(m->out_norm(hk)), tokens.narrow(1, k + 1, T));
      sum = sum.defined() ? sum + lk : lk;
      prev = hk;
    }
    out.mtp = sum / static_cast<double>(D);
    out.loss = out.loss + cfg.mtp_weight * out.mtp;
  }
  for (auto& moe : moe_layers()) {
    if (moe->balance_loss.defined()) {
      out.balance = out.balance.defined() ? out.balance + moe->balance_loss : moe->balance_loss;
      // Kept past this forward, the member would hold the step's autograd graph alive (its
      // memory, and AccumulateGrad nodes bound to the stream they were made on: a CUDA graph
      // captured on another stream then fails).
      moe->balance_loss = torch::Tensor();
    }
  }
  if (out.balance.defined()) out.loss = out.loss + out.balance;
  return out;
}

std::vector<MoE> R1ModelImpl::moe_layers() const {
  std::vector<MoE> out;
  for (const auto& b : *blocks) {
    auto* blk = b->as<BlockImpl>();
    if (blk->moe) out.push_back(blk->moe);
  }
  return out;
}

ParamCounts R1ModelImpl::param_counts() const {
  ParamCounts pc;
  for (const auto& p : parameters()) pc.total += p.numel();
  pc.embedding = embed->weight.numel() + (head ? head->weight.numel() : 0);
  for (const auto& p : mtp->parameters()) pc.mtp += p.numel();
  pc.active = pc.total;
  for (const auto& moe : moe_layers()) {
    int64_t per_expert = 0;
    for (const auto& p : moe->experts->ptr(0)->parameters()) per_expert += p.numel();
    pc.active -= (moe->n_routed - moe->topk) * per_expert;
  }
  return pc;
}

double R1ModelImpl::flops_per_token(int64_t seq_len) const {
  ParamCounts pc = param_counts();
  // Matmul parameters touched per token (the embedding lookup is free; a tied head is not).
  double n = static_cast<double>(pc.active - embed->weight.numel()) +
             static_cast<double>(cfg.dim * cfg.vocab_size) * (head ? 0.0 : 1.0);
  const double layers = static_cast<double>(cfg.n_layers + cfg.mtp_depth);
  // Attention scores and values: per layer 2·T·H·(dqk + dv) multiply-adds forward (causal
  // halves it), times 3 for forward + backward.
  double attn = layers * static_cast<double>(cfg.n_heads) *
                static_cast<double>(cfg.qk_nope_head_dim + cfg.qk_rope_head_dim +
                                    cfg.v_head_dim) *
                static_cast<double>(seq_len) * 2.0 * 3.0 * 0.5;
  return 6.0 * n + attn;
}

}  // namespace r1::model
