#include "engine/config/config.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace r1 {
namespace {

using Kind = FieldSpec::Kind;

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Int: return "an integer";
    case Kind::Float: return "a number";
    case Kind::Bool: return "true or false";
    case Kind::String: return "a string";
    case Kind::Choice: return "a string";
    case Kind::StringList: return "an array of strings";
  }
  return "?";
}

const char* toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    default: return "date/time";
  }
}

std::string fmt_num(double v) {
  char buf[64];
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // shortest representation that round-trips
  for (int prec = 1; prec <= 17; ++prec) {
    char b2[64];
    std::snprintf(b2, sizeof b2, "%.*g", prec, v);
    if (std::strtod(b2, nullptr) == v) {
      std::snprintf(buf, sizeof buf, "%s", b2);
      break;
    }
  }
  return buf;
}

// Throws ConfigError("<where>: key '<k>': <why>") when v is outside the field's domain.
void check_value(const FieldSpec& f, const ConfigValue& v, const std::string& where) {
  auto fail = [&](const std::string& why) {
    throw ConfigError(where + ": key '" + f.key + "': " + why);
  };
  if (f.kind == Kind::Int || f.kind == Kind::Float) {
    double x = f.kind == Kind::Int ? static_cast<double>(std::get<int64_t>(v)) : std::get<double>(v);
    if (!std::isfinite(x)) fail("must be finite");
    if (x < f.min || x > f.max)
      fail("value " + fmt_num(x) + " is out of range [" + fmt_num(f.min) + ", " + fmt_num(f.max) +
           "]");
  } else if (f.kind == Kind::Choice) {
    const auto& s = std::get<std::string>(v);
    bool ok = false;
    std::string all;
    for (const auto& c : f.choices) {
      ok |= c == s;
      all += (all.empty() ? "" : ", ") + c;
    }
    if (!ok) fail("'" + s + "' is not one of: " + all);
  }
}

ConfigValue from_toml(const FieldSpec& f, const toml::node& n, const std::string& where) {
  auto wrong = [&]() -> ConfigValue {
    throw ConfigError(where + ": key '" + f.key + "': must be " + kind_name(f.kind) + ", got " +
                      toml_type_name(n));
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
    case Kind::Choice:
      if (!n.is_string()) return wrong();
      return *n.value<std::string>();
    case Kind::StringList: {
      if (!n.is_array()) return wrong();
      std::vector<std::string> out;
      for (const auto& e : *n.as_array()) {
        if (!e.is_string()) return wrong();
        out.push_back(*e.value<std::string>());
      }
      return out;
    }
  }
  return wrong();
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') ||
                        (s.front() == '\'' && s.back() == '\'')))
    return s.substr(1, s.size() - 2);
  return s;
}

ConfigValue parse_text_value(const FieldSpec& f, const std::string& raw, const std::string& where) {
  std::string s = trim(raw);
  auto bad = [&]() -> ConfigValue {
    throw ConfigError(where + ": key '" + f.key + "': must be " + kind_name(f.kind) + ", got '" +
                      s + "'");
  };
  switch (f.kind) {
    case Kind::Int: {
      if (s.empty()) return bad();
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (*end != '\0' || errno == ERANGE) return bad();
      return static_cast<int64_t>(v);
    }
    case Kind::Float: {
      if (s.empty()) return bad();
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (*end != '\0') return bad();
      return v;
    }
    case Kind::Bool:
      if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "0" || s == "no" || s == "off") return false;
      return bad();
    case Kind::String:
    case Kind::Choice:
      return unquote(s);
    case Kind::StringList: {  // a,b,c or the TOML form ["a", "b"]
      std::vector<std::string> out;
      std::string item;
      std::string body = s;
      if (body.size() >= 2 && body.front() == '[' && body.back() == ']')
        body = body.substr(1, body.size() - 2);
      std::istringstream in(body);
      while (std::getline(in, item, ','))
        if (!trim(item).empty()) out.push_back(unquote(trim(item)));
      return out;
    }
  }
  return bad();
}

struct Override {
  std::string key, value, text;
};

Override split_override(const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos)
    throw ConfigError("--set " + kv + ": expected key=value");
  Override o{trim(kv.substr(0, eq)), kv.substr(eq + 1), kv};
  return o;
}

void set_checked(Config& cfg, const FieldSpec& f, const ConfigValue& v, const std::string& where) {
  check_value(f, v, where);
  f.set(cfg, v);
}

void apply_table(Config& cfg, const toml::table& tbl, const std::string& prefix,
                 const std::string& origin) {
  for (const auto& [k, node] : tbl) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const auto& src = node.source();
    std::string where = origin + ":" + std::to_string(src.begin.line) + ":" +
                        std::to_string(src.begin.column);
    if (node.is_table()) {
      apply_table(cfg, *node.as_table(), key, origin);
      continue;
    }
    const FieldSpec* f = find_field(key);
    if (!f) throw ConfigError(where + ": unknown key '" + key + "'");
    if (key == "model.preset") continue;  // applied first
    set_checked(cfg, *f, from_toml(*f, node, where), where);
  }
}

Config build(const toml::table* tbl, const std::string& origin,
             const std::vector<std::string>& overrides) {
  Config cfg;
  std::vector<Override> ovs;
  for (const auto& kv : overrides) ovs.push_back(split_override(kv));
  for (const auto& o : ovs)
    if (!find_field(o.key)) throw ConfigError("--set " + o.text + ": unknown key '" + o.key + "'");

  std::string preset = "r1-nano";
  std::string preset_where = "default";
  if (tbl) {
    if (const auto* n = tbl->at_path("model.preset").node()) {
      preset_where = origin + ":" + std::to_string(n->source().begin.line);
      const FieldSpec* f = find_field("model.preset");
      preset = std::get<std::string>(from_toml(*f, *n, preset_where));
    }
  }
  for (const auto& o : ovs)
    if (o.key == "model.preset") {
      preset = trim(unquote(trim(o.value)));
      preset_where = "--set " + o.text;
    }
  try {
    apply_preset(cfg, preset);
  } catch (const ConfigError& e) {
    throw ConfigError(preset_where + ": key 'model.preset': " + e.what());
  }
  if (tbl) apply_table(cfg, *tbl, "", origin);
  for (const auto& o : ovs) {
    if (o.key == "model.preset") continue;
    const FieldSpec* f = find_field(o.key);
    std::string where = "--set " + o.text;
    set_checked(cfg, *f, parse_text_value(*f, o.value, where), where);
  }
  try {
    validate(cfg);
  } catch (const ConfigError& e) {
    throw ConfigError(origin + ": " + e.what());
  }
  return cfg;
}

}  // namespace

Config config_from_string(const std::string& text, const std::string& origin,
                          const std::vector<std::string>& overrides) {
  toml::table tbl;
  try {
    tbl = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw ConfigError(origin + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": " +
                      std::string(e.description()));
  }
  return build(&tbl, origin, overrides);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return config_from_string(ss.str(), path, overrides);
}

Config default_config(const std::vector<std::string>& overrides) {
  return build(nullptr, "defaults", overrides);
}

void apply_override(Config& cfg, const std::string& kv) {
  Override o = split_override(kv);
  const FieldSpec* f = find_field(o.key);
  std::string where = "--set " + o.text;
  if (!f) throw ConfigError(where + ": unknown key '" + o.key + "'");
  if (o.key == "model.preset") {
    apply_preset(cfg, trim(unquote(trim(o.value))));
    return;
  }
  set_checked(cfg, *f, parse_text_value(*f, o.value, where), where);
}

void validate(const Config& c) {
  auto fail = [](const std::string& key, const std::string& why) {
    throw ConfigError("key '" + key + "': " + why);
  };
  const auto& m = c.model;
  if (m.n_activated_experts > m.n_routed_experts)
    fail("model.n_activated_experts", "top-k " + std::to_string(m.n_activated_experts) +
                                          " exceeds model.n_routed_experts " +
                                          std::to_string(m.n_routed_experts));
  if (m.n_routed_experts % m.n_expert_groups != 0)
    fail("model.n_expert_groups", "must divide model.n_routed_experts");
  if (m.n_limited_groups > m.n_expert_groups)
    fail("model.n_limited_groups", "exceeds model.n_expert_groups");
  if (m.n_limited_groups * (m.n_routed_experts / m.n_expert_groups) < m.n_activated_experts)
    fail("model.n_limited_groups", "the allowed groups hold fewer experts than top-k");
  if (m.dense_layers > m.n_layers) fail("model.dense_layers", "exceeds model.n_layers");
  if (m.qk_rope_head_dim % 2 != 0) fail("model.qk_rope_head_dim", "must be even");
  if (c.data.seq_len > m.max_seq_len)
    fail("data.seq_len", "exceeds model.max_seq_len " + std::to_string(m.max_seq_len));
  const auto& d = c.train.device;
  bool dev_ok = d == "cpu" || d == "cuda";
  if (!dev_ok && d.rfind("cuda:", 0) == 0 && d.size() > 5) {
    dev_ok = d.find_first_not_of("0123456789", 5) == std::string::npos;
  }
  if (!dev_ok) fail("train.device", "'" + d + "' is not cpu, cuda or cuda:N");
  if (c.train.precision == "fp16" && d == "cpu")
    fail("train.precision", "fp16 needs a CUDA device (train.device is cpu); use bf16 or fp32");
  if (c.run.name.empty() || c.run.name.find('/') != std::string::npos)
    fail("run.name", "must be a non-empty name without '/'");
}

std::string to_toml(const Config& cfg) {
  std::ostringstream out;
  out << "# R1 Workbench experiment (r1-worker reads this unchanged)\n";
  std::string section;
  for (const auto& f : config_fields()) {
    auto dot = f.key.find('.');
    std::string sec = f.key.substr(0, dot), name = f.key.substr(dot + 1);
    if (sec != section) {
      out << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
      section = sec;
    }
    out << name << " = ";
    ConfigValue v = f.get(cfg);
    switch (f.kind) {
      case Kind::Int: out << std::get<int64_t>(v); break;
      case Kind::Float: {
        std::string s = fmt_num(std::get<double>(v));
        if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
        out << s;
        break;
      }
      case Kind::Bool: out << (std::get<bool>(v) ? "true" : "false"); break;
      case Kind::String:
      case Kind::Choice: out << toml::value<std::string>(std::get<std::string>(v)); break;
      case Kind::StringList: {
        toml::array arr;
        for (const auto& s : std::get<std::vector<std::string>>(v)) arr.push_back(s);
        out << arr;
        break;
      }
    }
    out << "\n";
  }
  return out.str();
}

void save_config(const Config& cfg, const std::string& path) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ConfigError(path + ": cannot write config file");
    out << to_toml(cfg);
    out.flush();
    if (!out) throw ConfigError(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw ConfigError(path + ": cannot replace config file");
}

std::string config_reference_markdown() {
  Config def;
  apply_preset(def, "r1-nano");
  std::ostringstream out;
  out << "| key | type | default (r1-nano) | range / choices | meaning |\n|---|---|---|---|---|\n";
  for (const auto& f : config_fields()) {
    std::string type = kind_name(f.kind), def_s, dom;
    ConfigValue v = f.get(def);
    switch (f.kind) {
      case Kind::Int: def_s = std::to_string(std::get<int64_t>(v));
        dom = fmt_num(f.min) + " … " + fmt_num(f.max); type = "int"; break;
      case Kind::Float: def_s = fmt_num(std::get<double>(v));
        dom = fmt_num(f.min) + " … " + fmt_num(f.max); type = "float"; break;
      case Kind::Bool: def_s = std::get<bool>(v) ? "true" : "false"; type = "bool"; break;
      case Kind::String: def_s = "\"" + std::get<std::string>(v) + "\""; type = "string"; break;
      case Kind::Choice: def_s = "\"" + std::get<std::string>(v) + "\""; type = "string";
        for (const auto& c : f.choices) dom += (dom.empty() ? "" : ", ") + c;
        break;
      case Kind::StringList: def_s = "[]"; type = "string array"; break;
    }
    out << "| `" << f.key << "` | " << type << " | " << def_s << " | " << dom << " | " << f.help
        << " |\n";
  }
  return out.str();
}

}  // namespace r1
