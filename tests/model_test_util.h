#pragma once
// Small model configs for tests (independent of the presets' values).
#include "engine/config/config.h"

namespace r1::test {

inline ModelConfig tiny_model(int64_t vocab = 48) {
  ModelConfig m;
  m.vocab_size = vocab;
  m.dim = 24;
  m.n_layers = 2;
  m.n_heads = 3;
  m.q_lora_rank = 12;
  m.kv_lora_rank = 10;
  m.qk_nope_head_dim = 6;
  m.qk_rope_head_dim = 4;
  m.v_head_dim = 5;
  m.max_seq_len = 64;
  m.dense_layers = 1;
  m.dense_inter = 32;
  m.n_routed_experts = 4;
  m.n_shared_experts = 1;
  m.n_activated_experts = 2;
  m.moe_inter = 16;
  m.mtp_depth = 1;
  m.init_std = 0.2;
  return m;
}

}  // namespace r1::test
