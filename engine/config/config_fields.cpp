#include "engine/config/config.h"

namespace r1 {
namespace {

using Kind = FieldSpec::Kind;

template <class S, class T>
FieldSpec num(std::string key, S Config::*sec, T S::*mem, double lo, double hi, std::string help) {
  FieldSpec f;
  f.key = std::move(key);
  f.kind = std::is_integral_v<T> ? Kind::Int : Kind::Float;
  f.help = std::move(help);
  f.min = lo;
  f.max = hi;
  f.get = [sec, mem](const Config& c) -> ConfigValue {
    if constexpr (std::is_integral_v<T>) return static_cast<int64_t>(c.*sec.*mem);
    else return static_cast<double>(c.*sec.*mem);
  };
  f.set = [sec, mem](Config& c, const ConfigValue& v) {
    if constexpr (std::is_integral_v<T>) c.*sec.*mem = std::get<int64_t>(v);
    else c.*sec.*mem = std::get<double>(v);
  };
  return f;
}

template <class S>
FieldSpec str(std::string key, S Config::*sec, std::string S::*mem, std::string help,
              std::vector<std::string> choices = {}) {
  FieldSpec f;
  f.key = std::move(key);
  f.kind = choices.empty() ? Kind::String : Kind::Choice;
  f.help = std::move(help);
  f.choices = std::move(choices);
  f.get = [sec, mem](const Config& c) -> ConfigValue { return c.*sec.*mem; };
  f.set = [sec, mem](Config& c, const ConfigValue& v) { c.*sec.*mem = std::get<std::string>(v); };
  return f;
}

template <class S>
FieldSpec flag(std::string key, S Config::*sec, bool S::*mem, std::string help) {
  FieldSpec f;
  f.key = std::move(key);
  f.kind = Kind::Bool;
  f.help = std::move(help);
  f.get = [sec, mem](const Config& c) -> ConfigValue { return c.*sec.*mem; };
  f.set = [sec, mem](Config& c, const ConfigValue& v) { c.*sec.*mem = std::get<bool>(v); };
  return f;
}

template <class S>
FieldSpec list(std::string key, S Config::*sec, std::vector<std::string> S::*mem,
               std::string help) {
  FieldSpec f;
  f.key = std::move(key);
  f.kind = Kind::StringList;
  f.help = std::move(help);
  f.get = [sec, mem](const Config& c) -> ConfigValue { return c.*sec.*mem; };
  f.set = [sec, mem](Config& c, const ConfigValue& v) {
    c.*sec.*mem = std::get<std::vector<std::string>>(v);
  };
  return f;
}

constexpr double kBig = 1e12;

std::vector<FieldSpec> make_fields() {
  using C = Config;
  using M = ModelConfig;
  using D = DataConfig;
  using T = TrainConfig;
  using E = EvalConfig;
  using K = CheckpointConfig;
  using R = RunConfig;
  return {
      str("run.name", &C::run, &R::name, "Run name; the run folder is run.dir/run.name"),
      str("run.dir", &C::run, &R::dir, "Folder holding runs"),

      str("model.preset", &C::model, &M::preset, "Architecture preset applied before other keys",
          preset_names()),
      num("model.vocab_size", &C::model, &M::vocab_size, 257, 1 << 20,
          "Vocabulary size (BPE tokenizer trained to this size)"),
      num("model.dim", &C::model, &M::dim, 8, 65536, "Hidden size"),
      num("model.n_layers", &C::model, &M::n_layers, 1, 1024, "Transformer blocks"),
      num("model.n_heads", &C::model, &M::n_heads, 1, 1024, "Attention heads"),
      num("model.q_lora_rank", &C::model, &M::q_lora_rank, 0, 65536,
          "MLA query latent rank (0: full-rank query projection)"),
      num("model.kv_lora_rank", &C::model, &M::kv_lora_rank, 1, 65536,
          "MLA joint key/value latent rank"),
      num("model.qk_nope_head_dim", &C::model, &M::qk_nope_head_dim, 1, 4096,
          "Per-head query/key dims without RoPE"),
      num("model.qk_rope_head_dim", &C::model, &M::qk_rope_head_dim, 2, 4096,
          "Decoupled RoPE dims (key shared by all heads); even"),
      num("model.v_head_dim", &C::model, &M::v_head_dim, 1, 4096, "Per-head value dims"),
      num("model.rope_theta", &C::model, &M::rope_theta, 1, 1e9, "RoPE base"),
      num("model.max_seq_len", &C::model, &M::max_seq_len, 2, 1 << 20, "Longest sequence"),
      num("model.dense_layers", &C::model, &M::dense_layers, 0, 1024,
          "Leading blocks with a dense FFN; the rest use DeepSeekMoE"),
      num("model.dense_inter", &C::model, &M::dense_inter, 1, 1 << 20,
          "Dense SwiGLU hidden size (also the MTP blocks)"),
      num("model.n_routed_experts", &C::model, &M::n_routed_experts, 1, 4096, "Routed experts"),
      num("model.n_shared_experts", &C::model, &M::n_shared_experts, 0, 64, "Shared experts"),
      num("model.n_activated_experts", &C::model, &M::n_activated_experts, 1, 4096,
          "Routed experts chosen per token (top-k)"),
      num("model.moe_inter", &C::model, &M::moe_inter, 1, 1 << 20, "Expert SwiGLU hidden size"),
      num("model.n_expert_groups", &C::model, &M::n_expert_groups, 1, 4096,
          "Expert groups for group-limited routing"),
      num("model.n_limited_groups", &C::model, &M::n_limited_groups, 1, 4096,
          "Groups a token may route to"),
      num("model.route_scale", &C::model, &M::route_scale, 0, 1000,
          "Scale on normalized gate weights"),
      num("model.bias_update_speed", &C::model, &M::bias_update_speed, 0, 1,
          "Aux-loss-free balancing: bias += gamma * sign(mean load - load) each step"),
      num("model.balance_loss_alpha", &C::model, &M::balance_loss_alpha, 0, 1,
          "Sequence-wise balance loss weight (0: off)"),
      num("model.mtp_depth", &C::model, &M::mtp_depth, 0, 16, "Multi-token prediction depth"),
      num("model.mtp_weight", &C::model, &M::mtp_weight, 0, 100, "MTP loss weight (lambda)"),
      flag("model.tie_embeddings", &C::model, &M::tie_embeddings,
           "Share the token embedding with the LM head"),
      num("model.norm_eps", &C::model, &M::norm_eps, 1e-12, 1e-1, "RMSNorm epsilon"),
      num("model.init_std", &C::model, &M::init_std, 1e-6, 1, "Weight init standard deviation"),

      list("data.paths", &C::data, &D::paths,
           "Text files or folders (empty: Debian's fortunes, English + Chinese)"),
      num("data.val_fraction", &C::data, &D::val_fraction, 0, 0.5,
          "Tail fraction of tokens held out for validation"),
      str("data.cache_dir", &C::data, &D::cache_dir,
          "Tokenizer/token cache (empty: ~/.cache/r1-workbench)"),
      str("data.tokenizer", &C::data, &D::tokenizer,
          "Existing tokenizer file (empty: train on the corpus)"),
      num("data.seq_len", &C::data, &D::seq_len, 2, 1 << 20, "Training sequence length"),
      num("data.batch_size", &C::data, &D::batch_size, 1, 1 << 16, "Sequences per micro-batch"),

      num("train.steps", &C::train, &T::steps, 0, kBig, "Optimizer steps"),
      num("train.grad_accum", &C::train, &T::grad_accum, 1, 4096,
          "Micro-batches per optimizer step"),
      num("train.lr", &C::train, &T::lr, 0, 10, "Peak learning rate of the body"),
      num("train.lr_embed", &C::train, &T::lr_embed, 0, 10,
          "Peak learning rate of the embedding and head"),
      str("train.schedule", &C::train, &T::schedule, "Learning-rate schedule after warmup",
          {"cosine", "linear", "constant"}),
      num("train.warmup_steps", &C::train, &T::warmup_steps, 0, kBig, "Linear warmup steps"),
      num("train.min_lr_ratio", &C::train, &T::min_lr_ratio, 0, 1,
          "Final learning rate as a fraction of the peak"),
      num("train.weight_decay", &C::train, &T::weight_decay, 0, 10,
          "AdamW decoupled weight decay (never on norms or biases)"),
      num("train.beta1", &C::train, &T::beta1, 0, 0.999999, "AdamW beta1"),
      num("train.beta2", &C::train, &T::beta2, 0, 0.999999, "AdamW beta2"),
      num("train.eps", &C::train, &T::eps, 1e-12, 1, "AdamW epsilon"),
      num("train.clip_grad", &C::train, &T::clip_grad, 0, 1e6,
          "Global gradient-norm clip (0: off)"),
      num("train.label_smoothing", &C::train, &T::label_smoothing, 0, 0.99, "Label smoothing"),
      str("train.precision", &C::train, &T::precision, "Compute precision",
          {"fp32", "bf16", "fp16"}),
      num("train.loss_scale_init", &C::train, &T::loss_scale_init, 1, 1e30,
          "fp16: initial dynamic loss scale"),
      num("train.scale_window", &C::train, &T::scale_window, 1, kBig,
          "fp16: clean steps before the scale doubles"),
      num("train.seed", &C::train, &T::seed, 0, 9.0e15, "Seed for init and data sampling"),
      str("train.device", &C::train, &T::device, "cpu, cuda or cuda:N"),
      num("train.threads", &C::train, &T::threads, 0, 4096,
          "CPU threads for LibTorch (0: default)"),
      flag("train.kernels", &C::train, &T::kernels,
           "Fused CUDA kernels (RMSNorm, RoPE, cross-entropy, MoE routing and permutation, "
           "AdamW) on CUDA where built; off: ATen only"),
      flag("train.cuda_graph", &C::train, &T::cuda_graph,
           "Capture each micro-batch's forward + backward as a CUDA graph after two eager steps "
           "and replay it (bf16 on one GPU; ignored with a warning elsewhere)"),
      num("train.log_every", &C::train, &T::log_every, 1, kBig, "Steps between step events"),
      num("train.peak_tflops", &C::train, &T::peak_tflops, 0, 1e6,
          "Peak TFLOP/s for MFU (0: known GPUs only)"),

      num("eval.every", &C::eval, &E::every, 0, kBig, "Steps between evaluations (0: at end)"),
      num("eval.batches", &C::eval, &E::batches, 1, 1 << 20, "Validation batches per evaluation"),

      num("checkpoint.every", &C::checkpoint, &K::every, 0, kBig,
          "Steps between checkpoints (0: at end only)"),
      num("checkpoint.keep_last", &C::checkpoint, &K::keep_last, 1, 1 << 20,
          "Checkpoints kept in the run folder"),
      str("checkpoint.resume", &C::checkpoint, &K::resume,
          "Resume from a checkpoint file, or \"latest\" in the run folder"),
  };
}

}  // namespace

const std::vector<FieldSpec>& config_fields() {
  static const std::vector<FieldSpec> fields = make_fields();
  return fields;
}

const FieldSpec* find_field(const std::string& key) {
  for (const auto& f : config_fields())
    if (f.key == key) return &f;
  return nullptr;
}

}  // namespace r1
