#include "engine/cluster/job_record.h"

#include "engine/cluster/cluster_error.h"

#include <nlohmann/json.hpp>

namespace r1::cluster {

using nlohmann::json;

const char* to_string(JobState s) {
  switch (s) {
    case JobState::Launching: return "launching";
    case JobState::Running: return "running";
    case JobState::Completed: return "completed";
    case JobState::Failed: return "failed";
    case JobState::Stopped: return "stopped";
  }
  return "?";
}

bool parse_job_state(const std::string& t, JobState* s) {
  for (JobState x : {JobState::Launching, JobState::Running, JobState::Completed, JobState::Failed,
                     JobState::Stopped})
    if (t == to_string(x)) {
      *s = x;
      return true;
    }
  return false;
}

bool needs_draining(const JobRecord& record) { return is_final(record.state) && !record.drained; }

RankRecord* JobRecord::rank(int r) {
  for (auto& x : ranks)
    if (x.rank == r) return &x;
  return nullptr;
}

const RankRecord* JobRecord::rank(int r) const {
  for (const auto& x : ranks)
    if (x.rank == r) return &x;
  return nullptr;
}

std::vector<int> JobRecord::ranks_on(int node) const {
  std::vector<int> out;
  for (const auto& x : ranks)
    if (x.node == node) out.push_back(x.rank);
  return out;
}

std::string to_json(const JobRecord& r) {
  json j;
  j["version"] = r.version;
  j["id"] = r.id;
  j["profile_path"] = r.profile_path;
  j["profile_toml"] = r.profile_toml;
  j["experiment_path"] = r.experiment_path;
  j["experiment_toml"] = r.experiment_toml;
  j["overrides"] = r.overrides;
  j["created"] = r.created;
  j["updated"] = r.updated;
  j["state"] = to_string(r.state);
  j["cause"] = r.cause;
  j["failed_rank"] = r.failed_rank;
  j["failed_node"] = r.failed_node;
  j["world_size"] = r.world_size;
  j["master_addr"] = r.master_addr;
  j["master_port"] = r.master_port;
  j["gpu"] = r.gpu;
  j["nodes"] = json::array();
  for (const auto& n : r.nodes) j["nodes"].push_back({{"label", n.label}, {"job_dir", n.job_dir}});
  j["ranks"] = json::array();
  for (const auto& k : r.ranks)
    j["ranks"].push_back({{"rank", k.rank},
                          {"node", k.node},
                          {"local_rank", k.local_rank},
                          {"pgid", k.pgid},
                          {"pid", k.pid},
                          {"offset", k.offset},
                          {"lines", k.lines},
                          {"end", k.end},
                          {"alive", k.alive},
                          {"exit_code", k.exit_code},
                          {"finish", k.finish},
                          {"last_error", k.last_error}});
  j["last_checkpoint"] = r.last_checkpoint;
  j["last_checkpoint_step"] = r.last_checkpoint_step;
  j["resumed_from"] = r.resumed_from;
  j["cleanup"] = r.cleanup;
  j["drained"] = r.drained;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

JobRecord job_from_json(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw JobError(origin + ": not a job record: " + e.what());
  }
  JobRecord r;
  std::string field;
  try {
    auto get = [&](const json& o, const char* key, auto& out) {
      field = key;
      if (o.contains(key)) out = o.at(key).get<std::decay_t<decltype(out)>>();
    };
    get(j, "version", r.version);
    if (r.version != 1)
      throw JobError(origin + ": job record version " + std::to_string(r.version) +
                     " is not supported (this launcher reads version 1)");
    get(j, "id", r.id);
    get(j, "profile_path", r.profile_path);
    get(j, "profile_toml", r.profile_toml);
    get(j, "experiment_path", r.experiment_path);
    get(j, "experiment_toml", r.experiment_toml);
    get(j, "overrides", r.overrides);
    get(j, "created", r.created);
    get(j, "updated", r.updated);
    std::string state = "launching";
    get(j, "state", state);
    if (!parse_job_state(state, &r.state))
      throw JobError(origin + ": field 'state': unknown state '" + state + "'");
    get(j, "cause", r.cause);
    get(j, "failed_rank", r.failed_rank);
    get(j, "failed_node", r.failed_node);
    get(j, "world_size", r.world_size);
    get(j, "master_addr", r.master_addr);
    get(j, "master_port", r.master_port);
    get(j, "gpu", r.gpu);
    get(j, "last_checkpoint", r.last_checkpoint);
    get(j, "last_checkpoint_step", r.last_checkpoint_step);
    get(j, "resumed_from", r.resumed_from);
    get(j, "cleanup", r.cleanup);
    r.drained = true;  // a record from before the field: nothing known to be left
    get(j, "drained", r.drained);
    field = "nodes";
    for (const auto& n : j.value("nodes", json::array())) {
      NodeRecord nr;
      get(n, "label", nr.label);
      get(n, "job_dir", nr.job_dir);
      r.nodes.push_back(nr);
    }
    field = "ranks";
    for (const auto& k : j.value("ranks", json::array())) {
      RankRecord rr;
      get(k, "rank", rr.rank);
      get(k, "node", rr.node);
      get(k, "local_rank", rr.local_rank);
      get(k, "pgid", rr.pgid);
      get(k, "pid", rr.pid);
      get(k, "offset", rr.offset);
      get(k, "lines", rr.lines);
      get(k, "end", rr.end);
      get(k, "alive", rr.alive);
      get(k, "exit_code", rr.exit_code);
      get(k, "finish", rr.finish);
      get(k, "last_error", rr.last_error);
      if (rr.node < 0 || rr.node >= static_cast<int>(r.nodes.size()))
        throw JobError(origin + ": rank " + std::to_string(rr.rank) + " names node " +
                       std::to_string(rr.node) + ", which the record does not list");
      r.ranks.push_back(rr);
    }
  } catch (const json::exception& e) {
    throw JobError(origin + ": field '" + field + "': " + e.what());
  }
  if (r.id.empty()) throw JobError(origin + ": field 'id' is missing");
  return r;
}

}  // namespace r1::cluster
