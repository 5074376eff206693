#include "engine/dist/dist_env.h"

#include <cerrno>
#include <cstdlib>

namespace r1::dist {
namespace {

int parse_int(const char* name, const char* text, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
    throw DistError("environment variable " + std::string(name) + "='" + text +
                    "': expected an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  return static_cast<int>(v);
}

}  // namespace

std::optional<DistEnv> dist_env_from(const std::function<const char*(const char*)>& get) {
  const char* ws = get("WORLD_SIZE");
  if (!ws || !*ws) return std::nullopt;
  DistEnv e;
  e.world_size = parse_int("WORLD_SIZE", ws, 1, 1 << 20);
  auto need = [&](const char* name) -> const char* {
    const char* v = get(name);
    if ((!v || !*v) && e.world_size > 1)
      throw DistError("environment variable " + std::string(name) +
                      " is not set, but WORLD_SIZE=" + ws + " asks for a distributed run");
    return v && *v ? v : nullptr;
  };
  if (const char* r = need("RANK")) e.rank = parse_int("RANK", r, 0, e.world_size - 1);
  if (const char* a = need("MASTER_ADDR")) e.master_addr = a;
  if (const char* p = need("MASTER_PORT")) e.master_port = parse_int("MASTER_PORT", p, 1, 65535);
  e.local_world_size = e.world_size;
  if (const char* l = get("LOCAL_WORLD_SIZE"); l && *l)
    e.local_world_size = parse_int("LOCAL_WORLD_SIZE", l, 1, e.world_size);
  e.local_rank = e.rank;
  if (const char* l = get("LOCAL_RANK"); l && *l)
    e.local_rank = parse_int("LOCAL_RANK", l, 0, e.local_world_size - 1);
  else if (e.local_world_size != e.world_size)
    throw DistError("environment variable LOCAL_RANK is not set, but LOCAL_WORLD_SIZE=" +
                    std::to_string(e.local_world_size) + " differs from WORLD_SIZE");
  return e;
}

std::optional<DistEnv> dist_env_from_environment() {
  return dist_env_from([](const char* n) { return std::getenv(n); });
}

}  // namespace r1::dist
