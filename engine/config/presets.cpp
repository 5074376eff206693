#include "engine/config/config.h"

namespace r1 {

std::vector<std::string> preset_names() { return {"r1-nano", "r1-mini", "r1-mini-dense", "r1-small"}; }

void apply_preset(Config& cfg, const std::string& name) {
  ModelConfig m;  // defaults are r1-nano
  m.preset = name;
  if (name == "r1-nano") {
    m.vocab_size = 1024;
    cfg.data.seq_len = 64;
  } else if (name == "r1-mini" || name == "r1-mini-dense" || name == "r1-small") {
    m.vocab_size = 32768;
    m.dim = 768;
    m.n_layers = 12;
    m.n_heads = 12;
    m.q_lora_rank = 384;
    m.kv_lora_rank = 256;
    m.qk_nope_head_dim = 48;
    m.qk_rope_head_dim = 16;
    m.v_head_dim = 64;
    m.max_seq_len = 4096;
    m.dense_layers = 1;
    m.dense_inter = 2048;
    m.n_routed_experts = 8;
    m.n_shared_experts = 1;
    m.n_activated_experts = 2;
    m.moe_inter = 768;
    m.mtp_depth = 1;
    m.tie_embeddings = true;
    cfg.data.seq_len = 1024;
    if (name == "r1-mini-dense") m.dense_layers = m.n_layers;
    if (name == "r1-small") {
      m.dim = 1024;
      m.n_layers = 16;
      m.n_heads = 16;
      m.q_lora_rank = 512;
      m.kv_lora_rank = 256;
      m.qk_nope_head_dim = 64;
      m.qk_rope_head_dim = 32;
      m.v_head_dim = 64;
      m.dense_inter = 4096;
      m.n_routed_experts = 16;
      m.n_shared_experts = 2;
      m.n_activated_experts = 2;
      m.moe_inter = 1024;
    }
  } else {
    std::string all;
    for (const auto& p : preset_names()) all += (all.empty() ? "" : ", ") + p;
    throw ConfigError("unknown preset '" + name + "' (known: " + all + ")");
  }
  cfg.model = m;
}

}  // namespace r1
