#include "engine/vision/detect_config.h"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <variant>

namespace r1::vision {
namespace {

using Value = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                           std::vector<double>>;
enum class Kind { Int, Float, Bool, String, IntList, FloatList };

struct Field {
  std::string key;
  Kind kind;
  std::string help;
  std::vector<std::string> choices;  // String only; empty: any
  std::function<Value(const DetectConfig&)> get;
  std::function<void(DetectConfig&, const Value&)> set;
};

template <class S, class T>
Field field(std::string key, S DetectConfig::*sec, T S::*mem, std::string help,
            std::vector<std::string> choices = {}) {
  Field f;
  f.key = std::move(key);
  if constexpr (std::is_same_v<T, bool>) f.kind = Kind::Bool;
  else if constexpr (std::is_integral_v<T>) f.kind = Kind::Int;
  else if constexpr (std::is_floating_point_v<T>) f.kind = Kind::Float;
  else if constexpr (std::is_same_v<T, std::string>) f.kind = Kind::String;
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>) f.kind = Kind::IntList;
  else f.kind = Kind::FloatList;
  f.help = std::move(help);
  f.choices = std::move(choices);
  f.get = [sec, mem](const DetectConfig& c) -> Value { return c.*sec.*mem; };
  f.set = [sec, mem](DetectConfig& c, const Value& v) { c.*sec.*mem = std::get<T>(v); };
  return f;
}

const std::vector<Field>& fields() {
  using C = DetectConfig;
  static const std::vector<Field> table = {
      field("data.root", &C::data, &DetectDataConfig::root,
            "LUNA16-style folder: subsetN/<seriesuid>.mhd and annotations.csv"),
      field("data.annotations", &C::data, &DetectDataConfig::annotations,
            "annotations CSV; empty: <root>/annotations.csv"),
      field("data.excluded", &C::data, &DetectDataConfig::excluded,
            "excluded findings CSV; empty: <root>/annotations_excluded.csv if present"),
      field("data.val_root", &C::data, &DetectDataConfig::val_root,
            "held-out folder; empty: the last val_scans scans of root"),
      field("data.val_scans", &C::data, &DetectDataConfig::val_scans,
            "scans of root held out for evaluation (0: evaluate on the training scans)"),
      field("data.cache_scans", &C::data, &DetectDataConfig::cache_scans,
            "volumes kept in memory"),
      field("input.context_slices", &C::input, &DetectInputConfig::context_slices,
            "adjacent axial slices as input channels (odd)"),
      field("input.hu_min", &C::input, &DetectInputConfig::hu_min, "HU window low end (-> -1)"),
      field("input.hu_max", &C::input, &DetectInputConfig::hu_max, "HU window high end (-> +1)"),
      field("model.channels", &C::model, &DetectModelConfig::channels,
            "backbone widths at strides 2, 4, 8, 16"),
      field("model.fpn_channels", &C::model, &DetectModelConfig::fpn_channels,
            "width of the fused pyramid and the head"),
      field("model.aspp_rates", &C::model, &DetectModelConfig::aspp_rates,
            "dilation rates of the ASPP branch of each MultiScaleFusion block"),
      field("model.norm", &C::model, &DetectModelConfig::norm, "normalisation", {"group", "batch"}),
      field("model.groups", &C::model, &DetectModelConfig::groups, "GroupNorm groups"),
      field("head.min_overlap", &C::head, &DetectHeadConfig::min_overlap,
            "Gaussian radius: largest centre shift keeping IoU >= this"),
      field("head.min_radius", &C::head, &DetectHeadConfig::min_radius,
            "smallest Gaussian radius, heatmap cells"),
      field("head.min_section", &C::head, &DetectHeadConfig::min_section,
            "sections smaller than this x the nodule diameter are ignored, not negatives"),
      field("head.focal_alpha", &C::head, &DetectHeadConfig::focal_alpha, "focal loss alpha"),
      field("head.focal_beta", &C::head, &DetectHeadConfig::focal_beta,
            "focal loss beta (negatives near a centre)"),
      field("head.size_weight", &C::head, &DetectHeadConfig::size_weight,
            "weight of the log-diameter L1 loss"),
      field("head.offset_weight", &C::head, &DetectHeadConfig::offset_weight,
            "weight of the centre-offset L1 loss"),
      field("augment.flip", &C::augment, &DetectAugmentConfig::flip, "random x/y flips"),
      field("augment.rotate_deg", &C::augment, &DetectAugmentConfig::rotate_deg,
            "random in-plane rotation, +- degrees"),
      field("augment.scale_jitter", &C::augment, &DetectAugmentConfig::scale_jitter,
            "zoom in [1 - j, 1 + j]"),
      field("augment.crop_min", &C::augment, &DetectAugmentConfig::crop_min,
            "smallest field of view, fraction of the slice side"),
      field("augment.hu_shift", &C::augment, &DetectAugmentConfig::hu_shift,
            "HU offset jitter, +- HU"),
      field("augment.hu_scale", &C::augment, &DetectAugmentConfig::hu_scale,
            "HU contrast jitter, x [1 - s, 1 + s]"),
      field("train.steps", &C::train, &DetectTrainConfig::steps, "optimizer steps"),
      field("train.batch_size", &C::train, &DetectTrainConfig::batch_size, "images per step"),
      field("train.lr", &C::train, &DetectTrainConfig::lr, "peak learning rate (AdamW)"),
      field("train.weight_decay", &C::train, &DetectTrainConfig::weight_decay,
            "AdamW weight decay (conv weights; not norms or biases)"),
      field("train.warmup_steps", &C::train, &DetectTrainConfig::warmup_steps,
            "linear warmup steps"),
      field("train.schedule", &C::train, &DetectTrainConfig::schedule, "decay after warmup",
            {"cosine", "linear", "constant"}),
      field("train.min_lr_ratio", &C::train, &DetectTrainConfig::min_lr_ratio,
            "final learning rate / peak"),
      field("train.clip_grad", &C::train, &DetectTrainConfig::clip_grad,
            "global gradient norm clip (0: off)"),
      field("train.precision", &C::train, &DetectTrainConfig::precision,
            "autocast dtype on CUDA (CPU runs fp32)", {"fp32", "bf16", "fp16"}),
      field("train.loss_scale_init", &C::train, &DetectTrainConfig::loss_scale_init,
            "fp16 initial loss scale"),
      field("train.scale_window", &C::train, &DetectTrainConfig::scale_window,
            "fp16: clean steps before the scale doubles"),
      field("train.seed", &C::train, &DetectTrainConfig::seed, "seed of weights and sampling"),
      field("train.device", &C::train, &DetectTrainConfig::device, "cpu, cuda or cuda:N"),
      field("train.threads", &C::train, &DetectTrainConfig::threads,
            "CPU intra-op threads (0: LibTorch's default)"),
      field("train.sizes", &C::train, &DetectTrainConfig::sizes,
            "progressive resize: input side in pixels, one per phase"),
      field("train.resize_at", &C::train, &DetectTrainConfig::resize_at,
            "fractions of steps where the next size starts (one fewer than sizes)"),
      field("train.pos_fraction", &C::train, &DetectTrainConfig::pos_fraction,
            "share of samples taken through a nodule"),
      field("train.log_every", &C::train, &DetectTrainConfig::log_every, "steps per step event"),
      field("train.eval_every", &C::train, &DetectTrainConfig::eval_every,
            "steps between evaluations (0: only at the end)"),
      field("train.checkpoint_every", &C::train, &DetectTrainConfig::checkpoint_every,
            "steps between checkpoints (0: only at the end)"),
      field("train.keep_checkpoints", &C::train, &DetectTrainConfig::keep_checkpoints,
            "checkpoints kept in the run folder"),
      field("train.out_dir", &C::train, &DetectTrainConfig::out_dir, "folder of run folders"),
      field("train.run_name", &C::train, &DetectTrainConfig::run_name,
            "run folder name and event run id"),
      field("train.resume", &C::train, &DetectTrainConfig::resume,
            "continue from the newest checkpoint of the run folder"),
      field("decode.score_threshold", &C::decode, &DetectDecodeConfig::score_threshold,
            "lowest heatmap peak kept"),
      field("decode.top_k", &C::decode, &DetectDecodeConfig::top_k, "peaks per slice"),
      field("decode.nms_iou", &C::decode, &DetectDecodeConfig::nms_iou, "2D box NMS IoU"),
      field("decode.merge_gap", &C::decode, &DetectDecodeConfig::merge_gap,
            "slices a 3D candidate may skip"),
      field("decode.merge_distance", &C::decode, &DetectDecodeConfig::merge_distance,
            "link slice detections closer than this x the larger diameter"),
      field("decode.max_candidates", &C::decode, &DetectDecodeConfig::max_candidates,
            "3D candidates per scan"),
      field("decode.batch", &C::decode, &DetectDecodeConfig::batch, "slices per forward pass"),
  };
  return table;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields())
    if (f.key == key) return &f;
  return nullptr;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Int: return "an integer";
    case Kind::Float: return "a number";
    case Kind::Bool: return "true or false";
    case Kind::String: return "a string";
    case Kind::IntList: return "an array of integers";
    case Kind::FloatList: return "an array of numbers";
  }
  return "?";
}

const char* toml_type(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

Value from_toml(const Field& f, const toml::node& n, const std::string& where) {
  auto wrong = [&]() -> Value {
    throw DetectConfigError(where + ": key '" + f.key + "': must be " + kind_name(f.kind) +
                            ", got " + toml_type(n));
  };
  switch (f.kind) {
    case Kind::Int:
      if (!n.is_integer()) return wrong();
      return *n.value<int64_t>();
    case Kind::Float:
      if (n.is_integer()) return static_cast<double>(*n.value<int64_t>());
      if (!n.is_floating_point()) return wrong();
      return *n.value<double>();
    case Kind::Bool:
      if (!n.is_boolean()) return wrong();
      return *n.value<bool>();
    case Kind::String:
      if (!n.is_string()) return wrong();
      return *n.value<std::string>();
    case Kind::IntList: {
      if (!n.is_array()) return wrong();
      std::vector<int64_t> out;
      for (const auto& e : *n.as_array()) {
        if (!e.is_integer()) return wrong();
        out.push_back(*e.value<int64_t>());
      }
      return out;
    }
    case Kind::FloatList: {
      if (!n.is_array()) return wrong();
      std::vector<double> out;
      for (const auto& e : *n.as_array()) {
        if (e.is_integer()) out.push_back(static_cast<double>(*e.value<int64_t>()));
        else if (e.is_floating_point()) out.push_back(*e.value<double>());
        else return wrong();
      }
      return out;
    }
  }
  return wrong();
}

// --set values: parsed as the TOML value `x = <text>` (strings may be left unquoted).
Value from_text(const Field& f, const std::string& text, const std::string& where) {
  if (f.kind == Kind::String && (text.empty() || (text.front() != '"' && text.front() != '\'')))
    return text;
  toml::table t;
  try {
    t = toml::parse("x = " + text, where);
  } catch (const toml::parse_error&) {
    throw DetectConfigError(where + ": key '" + f.key + "': must be " + kind_name(f.kind) +
                            ", got '" + text + "'");
  }
  return from_toml(f, *t.get("x"), where);
}

void check_choice(const Field& f, const Value& v, const std::string& where) {
  if (f.choices.empty()) return;
  const auto& s = std::get<std::string>(v);
  for (const auto& c : f.choices)
    if (c == s) return;
  std::string list;
  for (const auto& c : f.choices) list += (list.empty() ? "" : ", ") + c;
  throw DetectConfigError(where + ": key '" + f.key + "': must be one of " + list + " (got '" +
                          s + "')");
}

std::string line_of(const toml::node& n, const std::string& origin) {
  return origin + ":" + std::to_string(n.source().begin.line);
}

void apply_table(DetectConfig& cfg, const toml::table& tbl, const std::string& prefix,
                 const std::string& origin, std::map<std::string, std::string>& where) {
  for (const auto& [k, node] : tbl) {
    const std::string key = prefix + std::string(k.str());
    const std::string at = line_of(node, origin);
    if (const auto* sub = node.as_table()) {
      bool section = false;
      for (const auto& f : fields())
        if (f.key.rfind(key + ".", 0) == 0) section = true;
      if (!section) throw DetectConfigError(at + ": unknown key '" + key + "'");
      apply_table(cfg, *sub, key + ".", origin, where);
      continue;
    }
    const Field* f = find_field(key);
    if (!f) throw DetectConfigError(at + ": unknown key '" + key + "'");
    Value v = from_toml(*f, node, at);
    check_choice(*f, v, at);
    f->set(cfg, v);
    where[key] = at;
  }
}

std::string fmt_double(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  std::string out = s.str();
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string value_toml(const Value& v) {
  struct {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return fmt_double(x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const {
      std::ostringstream s;
      s << toml::value<std::string>(x);
      return s.str();
    }
    std::string operator()(const std::vector<int64_t>& x) const {
      std::string s = "[";
      for (size_t i = 0; i < x.size(); ++i) s += (i ? ", " : "") + std::to_string(x[i]);
      return s + "]";
    }
    std::string operator()(const std::vector<double>& x) const {
      std::string s = "[";
      for (size_t i = 0; i < x.size(); ++i) s += (i ? ", " : "") + fmt_double(x[i]);
      return s + "]";
    }
  } visit;
  return std::visit(visit, v);
}

DetectConfig build(const toml::table& tbl, const std::string& origin,
                   const std::vector<std::string>& overrides) {
  DetectConfig cfg;
  std::map<std::string, std::string> where;
  apply_table(cfg, tbl, "", origin, where);
  for (const auto& kv : overrides) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw DetectConfigError("--set " + kv + ": expected key=value");
    const std::string key = kv.substr(0, eq);
    const Field* f = find_field(key);
    if (!f) throw DetectConfigError("--set " + kv + ": unknown key '" + key + "'");
    Value v = from_text(*f, kv.substr(eq + 1), "--set " + kv);
    check_choice(*f, v, "--set " + kv);
    f->set(cfg, v);
    where[key] = "--set " + kv;
  }
  try {
    validate(cfg, origin);
  } catch (const DetectConfigError& e) {
    // Point at the line that set the offending key when there is one.
    std::string msg = e.what();
    const auto q = msg.find("key '");
    if (q != std::string::npos) {
      const auto end = msg.find('\'', q + 5);
      const auto it = where.find(msg.substr(q + 5, end - q - 5));
      if (it != where.end()) throw DetectConfigError(it->second + ": " + msg.substr(q));
    }
    throw;
  }
  return cfg;
}

}  // namespace

int64_t DetectConfig::resize_step(size_t i) const {
  if (i == 0) return 0;
  return std::llround(train.resize_at[i - 1] * static_cast<double>(train.steps));
}

int64_t DetectConfig::size_at(int64_t step) const {
  size_t i = 0;
  while (i + 1 < train.sizes.size() && step >= resize_step(i + 1)) ++i;
  return train.sizes[i];
}

void validate(const DetectConfig& c, const std::string& origin) {
  auto bad = [&](const std::string& key, const std::string& why) {
    throw DetectConfigError(origin + ": key '" + key + "': " + why);
  };
  if (c.data.val_scans < 0) bad("data.val_scans", "must be >= 0");
  if (c.data.cache_scans < 1) bad("data.cache_scans", "must be >= 1");
  if (c.input.context_slices < 1 || c.input.context_slices % 2 == 0 ||
      c.input.context_slices > 15)
    bad("input.context_slices", "must be odd, 1..15");
  if (!(c.input.hu_max > c.input.hu_min)) bad("input.hu_max", "must be above input.hu_min");
  if (c.model.channels.size() != 4) bad("model.channels", "must list 4 widths (strides 2..16)");
  if (c.model.groups < 1) bad("model.groups", "must be >= 1");
  for (int64_t w : c.model.channels) {
    if (w < 1) bad("model.channels", "widths must be >= 1");
    if (c.model.norm == "group" && w % c.model.groups)
      bad("model.channels", "widths must be multiples of model.groups");
  }
  if (c.model.fpn_channels < 4 || c.model.fpn_channels % 4)
    bad("model.fpn_channels", "must be a positive multiple of 4");
  if (c.model.norm == "group" && (c.model.fpn_channels / 4) % c.model.groups)
    bad("model.fpn_channels", "fpn_channels / 4 must be a multiple of model.groups");
  if (c.model.aspp_rates.empty()) bad("model.aspp_rates", "must not be empty");
  for (int64_t r : c.model.aspp_rates)
    if (r < 1 || r > 64) bad("model.aspp_rates", "rates must be 1..64");
  if (!(c.head.min_overlap > 0 && c.head.min_overlap < 1))
    bad("head.min_overlap", "must be in (0, 1)");
  if (c.head.min_radius < 0) bad("head.min_radius", "must be >= 0");
  if (!(c.head.min_section >= 0 && c.head.min_section < 1))
    bad("head.min_section", "must be in [0, 1)");
  if (c.head.focal_alpha < 0 || c.head.focal_beta < 0) bad("head.focal_alpha", "must be >= 0");
  if (c.head.size_weight < 0 || c.head.offset_weight < 0) bad("head.size_weight", "must be >= 0");
  if (c.augment.rotate_deg < 0 || c.augment.rotate_deg > 180)
    bad("augment.rotate_deg", "must be 0..180");
  if (c.augment.scale_jitter < 0 || c.augment.scale_jitter >= 1)
    bad("augment.scale_jitter", "must be in [0, 1)");
  if (!(c.augment.crop_min > 0 && c.augment.crop_min <= 1))
    bad("augment.crop_min", "must be in (0, 1]");
  if (c.augment.hu_shift < 0) bad("augment.hu_shift", "must be >= 0");
  if (c.augment.hu_scale < 0 || c.augment.hu_scale >= 1)
    bad("augment.hu_scale", "must be in [0, 1)");
  if (c.train.steps < 1) bad("train.steps", "must be >= 1");
  if (c.train.batch_size < 1) bad("train.batch_size", "must be >= 1");
  if (!(c.train.lr > 0)) bad("train.lr", "must be > 0");
  if (c.train.weight_decay < 0) bad("train.weight_decay", "must be >= 0");
  if (c.train.warmup_steps < 0) bad("train.warmup_steps", "must be >= 0");
  if (c.train.min_lr_ratio < 0 || c.train.min_lr_ratio > 1)
    bad("train.min_lr_ratio", "must be in [0, 1]");
  if (c.train.clip_grad < 0) bad("train.clip_grad", "must be >= 0");
  if (!(c.train.loss_scale_init > 0)) bad("train.loss_scale_init", "must be > 0");
  if (c.train.scale_window < 1) bad("train.scale_window", "must be >= 1");
  if (c.train.device != "cpu" && c.train.device != "cuda" &&
      c.train.device.rfind("cuda:", 0) != 0)
    bad("train.device", "must be cpu, cuda or cuda:N (got '" + c.train.device + "')");
  if (c.train.threads < 0) bad("train.threads", "must be >= 0");
  if (c.train.sizes.empty()) bad("train.sizes", "must list at least one size");
  for (int64_t s : c.train.sizes)
    if (s < 16 || s > 4096 || s % 4) bad("train.sizes", "sizes must be multiples of 4, 16..4096");
  if (c.train.resize_at.size() + 1 != c.train.sizes.size())
    bad("train.resize_at", "must hold one fraction fewer than train.sizes has sizes (" +
                               std::to_string(c.train.sizes.size() - 1) + ")");
  for (size_t i = 0; i < c.train.resize_at.size(); ++i) {
    const double f = c.train.resize_at[i];
    if (!(f > 0 && f < 1)) bad("train.resize_at", "fractions must be in (0, 1)");
    if (i && !(f > c.train.resize_at[i - 1])) bad("train.resize_at", "must increase");
  }
  if (!(c.train.pos_fraction >= 0 && c.train.pos_fraction <= 1))
    bad("train.pos_fraction", "must be in [0, 1]");
  if (c.train.log_every < 1) bad("train.log_every", "must be >= 1");
  if (c.train.eval_every < 0) bad("train.eval_every", "must be >= 0");
  if (c.train.checkpoint_every < 0) bad("train.checkpoint_every", "must be >= 0");
  if (c.train.keep_checkpoints < 1) bad("train.keep_checkpoints", "must be >= 1");
  if (c.train.run_name.empty() || c.train.run_name.find('/') != std::string::npos)
    bad("train.run_name", "must be a non-empty name without '/'");
  if (!(c.decode.score_threshold >= 0 && c.decode.score_threshold < 1))
    bad("decode.score_threshold", "must be in [0, 1)");
  if (c.decode.top_k < 1) bad("decode.top_k", "must be >= 1");
  if (!(c.decode.nms_iou > 0 && c.decode.nms_iou <= 1)) bad("decode.nms_iou", "must be in (0, 1]");
  if (c.decode.merge_gap < 0) bad("decode.merge_gap", "must be >= 0");
  if (!(c.decode.merge_distance > 0)) bad("decode.merge_distance", "must be > 0");
  if (c.decode.max_candidates < 1) bad("decode.max_candidates", "must be >= 1");
  if (c.decode.batch < 1) bad("decode.batch", "must be >= 1");
}

DetectConfig detect_config_from_string(const std::string& text, const std::string& origin,
                                       const std::vector<std::string>& overrides) {
  toml::table tbl;
  try {
    tbl = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw DetectConfigError(origin + ":" + std::to_string(e.source().begin.line) + ":" +
                            std::to_string(e.source().begin.column) + ": " +
                            std::string(e.description()));
  }
  return build(tbl, origin, overrides);
}

DetectConfig load_detect_config(const std::string& path,
                                const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DetectConfigError(path + ": cannot open config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return detect_config_from_string(ss.str(), path, overrides);
}

std::string detect_config_to_toml(const DetectConfig& cfg) {
  std::string out, section;
  for (const auto& f : fields()) {
    const auto dot = f.key.find('.');
    const std::string sec = f.key.substr(0, dot);
    if (sec != section) {
      out += (section.empty() ? "[" : "\n[") + sec + "]\n";
      section = sec;
    }
    out += f.key.substr(dot + 1) + " = " + value_toml(f.get(cfg)) + "\n";
  }
  return out;
}

nlohmann::json detect_config_to_json(const DetectConfig& cfg) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : fields()) {
    const auto dot = f.key.find('.');
    auto& sec = j[f.key.substr(0, dot)];
    const std::string name = f.key.substr(dot + 1);
    std::visit([&](const auto& v) { sec[name] = v; }, f.get(cfg));
  }
  j["kind"] = "detector";
  return j;
}

std::string detect_config_reference() {
  std::string out = "| key | type | default | meaning |\n|---|---|---|---|\n";
  const DetectConfig defaults;
  for (const auto& f : fields()) {
    std::string type = kind_name(f.kind);
    if (!f.choices.empty()) {
      type.clear();
      for (const auto& c : f.choices) type += (type.empty() ? "" : " \\| ") + c;
    }
    out += "| `" + f.key + "` | " + type + " | `" + value_toml(f.get(defaults)) + "` | " +
           f.help + " |\n";
  }
  return out;
}

}  // namespace r1::vision
