#pragma once
// The one config schema: the GUI form, r1-worker and the launcher read and write this TOML.
// Every key is described once, in config_fields.cpp; loading, saving, --set overrides,
// validation and docs/CONFIG.md all come from that table.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace r1 {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ModelConfig {
  std::string preset = "r1-nano";
  int64_t vocab_size = 512;
  int64_t dim = 64;
  int64_t n_layers = 2;
  int64_t n_heads = 4;
  // Multi-head Latent Attention
  int64_t q_lora_rank = 32;  // 0: full-rank query projection
  int64_t kv_lora_rank = 32;
  int64_t qk_nope_head_dim = 16;
  int64_t qk_rope_head_dim = 8;
  int64_t v_head_dim = 16;
  double rope_theta = 10000.0;
  int64_t max_seq_len = 1024;
  // FFN: the first dense_layers blocks are dense SwiGLU, the rest DeepSeekMoE
  int64_t dense_layers = 1;
  int64_t dense_inter = 192;
  int64_t n_routed_experts = 4;
  int64_t n_shared_experts = 1;
  int64_t n_activated_experts = 2;
  int64_t moe_inter = 64;
  int64_t n_expert_groups = 1;
  int64_t n_limited_groups = 1;
  double route_scale = 1.0;
  double bias_update_speed = 0.001;  // gamma of auxiliary-loss-free balancing
  double balance_loss_alpha = 0.0;   // sequence-wise balance loss weight
  // Multi-token prediction
  int64_t mtp_depth = 1;
  double mtp_weight = 0.3;
  bool tie_embeddings = true;
  double norm_eps = 1e-6;
  double init_std = 0.02;
};

struct DataConfig {
  std::vector<std::string> paths;  // empty: the default corpus (Debian's fortunes)
  double val_fraction = 0.05;
  std::string cache_dir;           // empty: $XDG_CACHE_HOME/r1-workbench or ~/.cache/...
  std::string tokenizer;           // empty: train one from the corpus (cached)
  int64_t seq_len = 64;
  int64_t batch_size = 8;
};

struct TrainConfig {
  int64_t steps = 200;
  int64_t grad_accum = 1;
  double lr = 3e-3;        // body
  double lr_embed = 3e-3;  // embedding + head
  std::string schedule = "cosine";
  int64_t warmup_steps = 20;
  double min_lr_ratio = 0.1;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double clip_grad = 1.0;  // 0: off
  double label_smoothing = 0.0;
  std::string precision = "fp32";
  double loss_scale_init = 65536.0;
  int64_t scale_window = 2000;
  int64_t seed = 1234;
  std::string device = "cpu";
  int64_t threads = 0;  // CPU intra-op threads; 0: LibTorch's default
  bool kernels = true;   // fused CUDA kernels (kernels/) where built and on CUDA; false: ATen only
  bool cuda_graph = false;  // replay each micro-batch's forward + backward from a CUDA graph
  int64_t log_every = 1;
  double peak_tflops = 0.0;  // for MFU; 0: known GPUs only
};

struct EvalConfig {
  int64_t every = 50;    // 0: only at the end
  int64_t batches = 8;
};

struct CheckpointConfig {
  int64_t every = 0;     // 0: only at the end
  int64_t keep_last = 3;
  std::string resume;    // a checkpoint path, or "latest" in the run folder
};

struct RunConfig {
  std::string name = "default";
  std::string dir = "runs";  // the run's folder is <dir>/<name>
};

struct Config {
  RunConfig run;
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  EvalConfig eval;
  CheckpointConfig checkpoint;
};

using ConfigValue = std::variant<int64_t, double, bool, std::string, std::vector<std::string>>;

struct FieldSpec {
  enum class Kind { Int, Float, Bool, String, Choice, StringList };
  std::string key;  // "model.dim"
  Kind kind;
  std::string help;
  double min = 0, max = 0;            // Int/Float: inclusive range
  std::vector<std::string> choices;   // Choice
  std::function<ConfigValue(const Config&)> get;
  std::function<void(Config&, const ConfigValue&)> set;
};

const std::vector<FieldSpec>& config_fields();
const FieldSpec* find_field(const std::string& key);

std::vector<std::string> preset_names();
// Sets the model.* keys (and the preset's sequence length) of a named preset.
void apply_preset(Config& cfg, const std::string& name);

// defaults -> preset (from overrides, else file) -> file keys -> overrides, then validate().
// Errors name the file, line and key.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
Config config_from_string(const std::string& toml, const std::string& origin,
                          const std::vector<std::string>& overrides = {});
Config default_config(const std::vector<std::string>& overrides = {});
void apply_override(Config& cfg, const std::string& key_eq_value);
// Cross-key checks; throws ConfigError naming the key.
void validate(const Config& cfg);

std::string to_toml(const Config& cfg);
void save_config(const Config& cfg, const std::string& path);  // atomic
std::string config_reference_markdown();

}  // namespace r1
