#include "engine/cluster/launcher.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/job_monitor.h"
#include "engine/cluster/job_rules.h"
#include "engine/cluster/parallel.h"
#include "engine/cluster/ranks.h"
#include "engine/cluster/shell.h"
#include "engine/config/config.h"
#include "engine/events/event.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <variant>

namespace r1::cluster {
namespace {

constexpr std::size_t kMaxExperimentBytes = std::size_t{4} << 20;

std::string read_experiment(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ProfileError(path + ": cannot open the experiment: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > kMaxExperimentBytes)
    throw ProfileError(path + ": the experiment file is larger than 4 MiB");
  if (text.find('\0') != std::string::npos)
    throw ProfileError(path + ": the experiment file holds a NUL byte (not TOML text)");
  return text;
}

std::string job_dir_on_node(const Profile& p, const std::string& id) {
  std::string wd = p.remote_workdir;
  if (wd == "~")
    wd = ".";
  else if (wd.rfind("~/", 0) == 0)
    wd = wd.substr(2);
  if (wd.empty()) wd = ".";
  if (wd[0] == '-') wd = "./" + wd;
  while (wd.size() > 1 && wd.back() == '/') wd.pop_back();
  return wd + "/" + id;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string ranks_text(const std::vector<int>& v) {
  std::string out;
  for (int r : v) out += (out.empty() ? "" : ",") + std::to_string(r);
  return out;
}

}  // namespace

Launcher::Launcher(LauncherOptions options)
    : options_(std::move(options)),
      store_(options_.state_dir),
      control_dir_(options_.control_dir.empty() ? default_control_dir() : options_.control_dir) {
  if (!options_.control_dir.empty()) ensure_private_dir(control_dir_);
}

Launcher::~Launcher() = default;

SshSession Launcher::session(const Profile& profile, std::size_t node) const {
  return SshSession(profile, profile.nodes.at(node), control_dir_);
}

Profile Launcher::record_profile(const JobRecord& record) {
  return profile_from_string(record.profile_toml, "job " + record.id + " (its profile)");
}

std::vector<NodeInfo> Launcher::probe(const Profile& profile) const {
  std::vector<NodeInfo> out(profile.nodes.size());
  parallel_for(out.size(), [&](std::size_t i) {
    out[i] = probe_node(session(profile, i), profile.worker, profile.setup,
                        static_cast<int>(options_.command_timeout.count()));
  });
  return out;
}

std::vector<HostKeyCheck> Launcher::check_host_keys(const Profile& profile) const {
  std::vector<HostKeyCheck> out(profile.nodes.size());
  parallel_for(out.size(), [&](std::size_t i) {
    out[i] = check_host_key(session(profile, i), profile.connect_timeout);
  });
  return out;
}

std::vector<HostKeyCheck> Launcher::trust(const Profile& profile,
                                          const std::vector<std::string>& nodes,
                                          const std::vector<std::string>& fingerprints) const {
  for (const auto& n : nodes)
    if (!profile.find_node(n))
      throw ProfileError("profile '" + profile.name + "' has no node '" + n + "'");
  std::vector<HostKeyCheck> out;
  // One after the other: they append to the same known_hosts file.
  for (std::size_t i = 0; i < profile.nodes.size(); ++i) {
    const Node& node = profile.nodes[i];
    if (!nodes.empty() && std::find_if(nodes.begin(), nodes.end(), [&](const std::string& n) {
                            return profile.find_node(n) == &node;
                          }) == nodes.end())
      continue;
    out.push_back(trust_host_key(session(profile, i), fingerprints, profile.connect_timeout));
  }
  return out;
}

JobRecord Launcher::launch(const LaunchRequest& req) const {
  const Profile& profile = req.profile;
  validate(profile, req.profile_path.empty() ? "profile '" + profile.name + "'" : req.profile_path);
  const RankPlan plan = plan_ranks(profile);
  const std::string origin = req.experiment_path.empty() ? "experiment" : req.experiment_path;
  const std::string toml =
      req.experiment_toml.empty() ? read_experiment(req.experiment_path) : req.experiment_toml;
  std::vector<std::string> worker_args;
  worker_args.push_back("--set");
  worker_args.push_back(std::string("train.device=") + (plan.gpu ? "cuda" : "cpu"));
  std::vector<std::string> check = {std::string("train.device=") + (plan.gpu ? "cuda" : "cpu")};
  for (const auto& o : req.overrides) {
    worker_args.push_back("--set");
    worker_args.push_back(o);
    check.push_back(o);
  }
  // The experiment must load here exactly as the ranks will load it (throws r1::ConfigError).
  (void)r1::config_from_string(toml, origin, check);

  JobRecord rec;
  rec.id = store_.new_id(profile.name);
  rec.profile_path = req.profile_path;
  rec.profile_toml = to_toml(profile);
  rec.experiment_path = req.experiment_path;
  rec.experiment_toml = toml;
  rec.overrides = req.overrides;
  rec.created = events::now_seconds();
  rec.state = JobState::Launching;
  rec.world_size = plan.world_size;
  rec.master_port = profile.master_port;
  rec.gpu = plan.gpu;
  rec.resumed_from = req.resumed_from;
  rec.master_addr = profile.master_addr;
  if (rec.master_addr.empty()) {
    auto cfg = session(profile, 0).resolved_config();
    rec.master_addr = cfg.count("hostname") ? cfg["hostname"] : profile.nodes[0].host;
  }
  for (const auto& n : profile.nodes) rec.nodes.push_back({n.label(), {}});
  for (const auto& s : plan.ranks) {
    RankRecord r;
    r.rank = s.rank;
    r.node = s.node;
    r.local_rank = s.local_rank;
    rec.ranks.push_back(r);
  }
  store_.save(rec);

  std::vector<std::pair<std::string, std::string>> env = {
      {"MASTER_ADDR", rec.master_addr},
      {"MASTER_PORT", std::to_string(rec.master_port)},
      {"WORLD_SIZE", std::to_string(rec.world_size)}};
  if (!profile.nccl_socket_ifname.empty())
    env.emplace_back("NCCL_SOCKET_IFNAME", profile.nccl_socket_ifname);
  if (!profile.gloo_socket_ifname.empty())
    env.emplace_back("GLOO_SOCKET_IFNAME", profile.gloo_socket_ifname);
  for (const auto& [k, v] : profile.env) env.emplace_back(k, v);

  std::vector<std::string> errors(profile.nodes.size());
  std::vector<char> started(profile.nodes.size(), 0);  // char: written from threads
  parallel_for(profile.nodes.size(), [&](std::size_t i) {
    NodeLaunch nl;
    nl.job_id = rec.id;
    nl.job_dir = job_dir_on_node(profile, rec.id);
    nl.experiment_toml = toml;
    nl.worker = profile.worker;
    nl.setup = profile.setup;
    nl.env = env;
    nl.set_omp_threads = !profile.env.count("OMP_NUM_THREADS");
    nl.worker_args = worker_args;
    nl.node_label = profile.nodes[i].label();
    nl.local_world_size = plan.local_world_size[i];
    for (const auto& s : plan.on_node(static_cast<int>(i)))
      nl.ranks.push_back({s.rank, s.local_rank});
    const SshSession ssh = session(profile, i);
    SshResult r = ssh.run(launch_script(nl), options_.command_timeout);
    LaunchOutput out = parse_launch_output(r.output);
    rec.nodes[i].job_dir = out.job_dir;
    if (!r.ok() || !out.error.empty()) {
      errors[i] = out.error.empty() ? r.error(ssh.who()) : ssh.who() + ": " + out.error;
      started[i] = !out.job_dir.empty() && !out.ranks.empty();
      return;
    }
    started[i] = true;
    std::vector<std::string> problems;
    for (const auto& s : plan.on_node(static_cast<int>(i))) {
      const LaunchedRank* lr = nullptr;
      for (const auto& x : out.ranks)
        if (x.rank == s.rank) lr = &x;
      RankRecord* rr = rec.rank(s.rank);
      if (!lr || lr->pid <= 0) {
        problems.push_back(
            "rank " + std::to_string(s.rank) + " did not start within 10 s" +
            (lr && !lr->stderr_tail.empty() ? " (stderr: " + lr->stderr_tail + ")" : ""));
        continue;
      }
      rr->pgid = lr->pgid;
      rr->pid = lr->pid;
      rr->alive = lr->exit_code < 0;
      if (lr->exit_code > 0)
        problems.push_back("rank " + std::to_string(s.rank) + " exited at once (" +
                           describe_exit(lr->exit_code) + ")" +
                           (lr->stderr_tail.empty() ? "" : ": " + lr->stderr_tail));
      else if (lr->exit_code == 0)
        rr->exit_code = 0;
    }
    if (!problems.empty()) errors[i] = ssh.who() + ": " + join(problems, "; ");
  });

  std::vector<std::string> failed;
  for (const auto& e : errors)
    if (!e.empty()) failed.push_back(e);
  if (!failed.empty()) {
    // Take back what started: a half-launched job would wait for its missing peers forever.
    JobRecord partial = rec;
    for (std::size_t i = 0; i < partial.nodes.size(); ++i)
      if (!started[i]) partial.nodes[i].job_dir.clear();
    StopReport sr = stop_ranks(partial, std::chrono::seconds(2));
    rec.state = JobState::Failed;
    rec.cause = "launch failed: " + join(failed, "; ");
    rec.cleanup = sr.summary;
    store_.save(rec);
    throw LaunchError("job " + rec.id + ": launch failed\n  " + join(failed, "\n  ") +
                      "\n  cleanup: " + sr.summary);
  }
  rec.state = JobState::Running;
  store_.save(rec);
  return rec;
}

std::unique_ptr<JobMonitor> Launcher::attach(const std::string& job_id,
                                             const MonitorCallbacks& callbacks,
                                             const MonitorOptions& options) const {
  auto lock = std::make_unique<JobLock>();
  if (!lock->try_lock(store_, job_id))
    throw JobError("job " + job_id + " is already followed by " + lock->holder() +
                   "; stop that follower first");
  JobRecord rec = store_.load(job_id);
  return std::make_unique<JobMonitor>(*this, std::move(rec), std::move(lock), callbacks, options);
}

std::vector<NodeStatus> Launcher::poll(const JobRecord& record,
                                       std::chrono::milliseconds timeout) const {
  const Profile profile = record_profile(record);
  std::vector<NodeStatus> out(record.nodes.size());
  parallel_for(out.size(), [&](std::size_t i) {
    const SshSession ssh = session(profile, i);
    out[i].node = record.nodes[i].label;
    if (record.nodes[i].job_dir.empty()) {
      out[i].error = ssh.who() + ": the job never started there";
      return;
    }
    SshResult r = ssh.run(
        status_script(record.nodes[i].job_dir, record.ranks_on(static_cast<int>(i))), timeout);
    StatusOutput st = parse_status_output(r.output);
    if (!r.ok() || !st.complete) {
      out[i].error =
          r.failure || !r.ok()
              ? r.error(ssh.who())
              : ssh.who() + ": the status script stopped early: " + printable(r.process.err);
      return;
    }
    out[i].reachable = true;
    out[i].status = st;
  });
  return out;
}

StatusReport Launcher::status(const std::string& job_id) const {
  StatusReport rep;
  rep.record = store_.load(job_id);
  rep.nodes = poll(rep.record, std::chrono::seconds(20));
  std::vector<NodePoll> polls;
  for (const auto& n : rep.nodes) {
    NodePoll p;
    p.reachable = n.reachable;
    p.error = n.error;
    p.status = n.status;
    polls.push_back(p);
  }
  // One look cannot tell a lost node from a slow one: a status never declares a node lost.
  Verdict v = judge(rep.record, polls, 1e300);
  if (v.state != rep.record.state) {
    rep.record.state = v.state;
    if (!v.cause.empty()) rep.record.cause = v.cause;
    rep.record.failed_rank = v.rank;
    rep.record.failed_node = v.node;
  }
  JobLock lock;
  if (lock.try_lock(store_, job_id)) {
    store_.save(rep.record);
    rep.updated_record = true;
  }
  return rep;
}

StopReport Launcher::stop_ranks(const JobRecord& record, std::chrono::seconds grace) const {
  const Profile profile = record_profile(record);
  StopReport rep;
  rep.nodes.resize(record.nodes.size());
  parallel_for(record.nodes.size(), [&](std::size_t i) {
    NodeStop& ns = rep.nodes[i];
    ns.node = record.nodes[i].label;
    if (record.nodes[i].job_dir.empty()) {  // nothing was started there
      ns.reached = true;
      return;
    }
    const SshSession ssh = session(profile, i);
    SshResult r = ssh.run(stop_script(record.nodes[i].job_dir, record.ranks_on(static_cast<int>(i)),
                                      static_cast<int>(grace.count())),
                          grace + std::chrono::seconds(30));
    StopOutput so = parse_stop_output(r.output);
    if (!r.ok() || !so.complete) {
      ns.error = !r.ok()
                     ? r.error(ssh.who())
                     : ssh.who() + ": the stop script stopped early: " + printable(r.process.err);
      return;
    }
    ns.reached = true;
    ns.result = so;
  });
  std::vector<int> termed, killed;
  std::vector<std::string> problems;
  for (const auto& ns : rep.nodes) {
    termed.insert(termed.end(), ns.result.termed.begin(), ns.result.termed.end());
    killed.insert(killed.end(), ns.result.killed.begin(), ns.result.killed.end());
    if (!ns.reached) problems.push_back(ns.error);
    if (!ns.result.alive_after.empty())
      problems.push_back("node '" + ns.node + "': ranks " + ranks_text(ns.result.alive_after) +
                         " survived SIGKILL");
    for (const auto& l : ns.result.leftovers)
      problems.push_back("node '" + ns.node + "': process " + l + " is still there");
  }
  rep.verified = problems.empty();
  std::string s = termed.empty() ? std::string("no rank was running")
                                 : "sent SIGTERM to ranks " + ranks_text(termed);
  if (!killed.empty()) s += ", SIGKILL to ranks " + ranks_text(killed) + " after the grace period";
  s += rep.verified ? "; verified: no process of the job is left on any node"
                    : "; NOT verified: " + join(problems, "; ");
  rep.summary = s;
  return rep;
}

StopReport Launcher::stop(const std::string& job_id,
                          std::optional<std::chrono::seconds> grace) const {
  JobRecord rec = store_.load(job_id);
  StopReport rep = stop_ranks(rec, grace.value_or(options_.stop_grace));
  JobLock lock;
  if (lock.try_lock(store_, job_id)) {
    rec = store_.load(job_id);
    if (!is_final(rec.state)) {
      rec.state = JobState::Stopped;
      rec.cause = "stopped on request";
    }
    for (auto& r : rec.ranks) r.alive = false;
    rec.cleanup = rep.summary;
    store_.save(rec);
  }
  return rep;
}

std::string Launcher::find_checkpoint(const JobRecord& record, const Profile& profile) const {
  if (!record.last_checkpoint.empty()) return record.last_checkpoint;
  const RankRecord* r0 = record.rank(0);
  if (!r0) return {};
  const SshSession ssh = session(profile, static_cast<std::size_t>(r0->node));
  SshResult r =
      ssh.run(last_checkpoint_script(record.nodes[r0->node].job_dir, 0), options_.command_timeout);
  if (!r.ok()) throw ClusterError(r.error(ssh.who()));
  std::string line = r.output;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return {};
  auto d = events::decode(line);
  if (!d.ok()) throw ClusterError(ssh.who() + ": rank 0's last checkpoint event: " + d.error);
  if (auto* c = std::get_if<events::Checkpoint>(&d.event->payload)) return c->path;
  return {};
}

void Launcher::stage_file(const Profile& profile, std::size_t from, std::size_t to,
                          const std::string& path) const {
  const SshSession src = session(profile, from), dst = session(profile, to);
  auto size_on = [&](const SshSession& s) {
    SshResult r = s.run(file_size_script(path), options_.command_timeout);
    if (!r.ok()) throw ClusterError(r.error(s.who()));
    try {
      return std::stoll(r.output);
    } catch (...) {
      return -1LL;
    }
  };
  const long long want = size_on(src);
  if (want < 0) throw ClusterError(src.who() + ": checkpoint " + path + " is gone");
  if (size_on(dst) == want) return;  // already there (a shared filesystem, or the same host)
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw ClusterError(std::string("pipe: ") + std::strerror(errno));
  const std::string q = sh_quote(path);
  const std::string tmp = sh_quote(path + ".r1-copy");
  const std::string read_cmd = "sh -c " + sh_quote("exec cat -- " + q);
  const std::string write_cmd =
      "sh -c " + sh_quote("mkdir -p -- \"$(dirname -- " + q + ")\" && cat > " + tmp +
                          " && mv -f -- " + tmp + " " + q);
  const auto timeout = options_.command_timeout * 20;
  SshResult rs, rd;
  std::thread reader([&] { rs = src.run_with_fds(read_cmd, -1, p[1], timeout); });
  rd = dst.run_with_fds(write_cmd, p[0], -1, timeout);
  reader.join();
  if (!rs.ok()) throw ClusterError(rs.error(src.who()) + " (reading " + path + ")");
  if (!rd.ok()) throw ClusterError(rd.error(dst.who()) + " (writing " + path + ")");
  if (size_on(dst) != want)
    throw ClusterError(dst.who() + ": the copy of " + path + " has the wrong size");
}

JobRecord Launcher::resume(const std::string& job_id, const std::string& checkpoint,
                           const std::vector<std::string>& overrides) const {
  JobRecord old = store_.load(job_id);
  if (!is_final(old.state)) {
    StatusReport st = status(job_id);
    old = st.record;
    std::vector<int> alive;
    for (const auto& r : old.ranks)
      if (r.alive) alive.push_back(r.rank);
    if (!alive.empty())
      throw JobError("job " + job_id + " is still running (ranks " + ranks_text(alive) +
                     "): stop it first (r1-worker cluster stop " + job_id + ")");
  }
  const Profile profile = record_profile(old);
  std::string ckpt = checkpoint.empty() ? find_checkpoint(old, profile) : checkpoint;
  if (ckpt.empty())
    throw JobError("job " + job_id +
                   " wrote no checkpoint, so there is nothing to resume from "
                   "(set checkpoint.every in the experiment)");
  const RankRecord* r0 = old.rank(0);
  const std::size_t home = r0 ? static_cast<std::size_t>(r0->node) : 0;
  std::vector<std::string> errors(profile.nodes.size());
  parallel_for(profile.nodes.size(), [&](std::size_t i) {
    if (i == home) return;
    try {
      stage_file(profile, home, i, ckpt);
    } catch (const ClusterError& e) {
      errors[i] = e.what();
    }
  });
  if (home < profile.nodes.size()) {  // the file must exist where rank 0 reads it
    const SshSession s = session(profile, home);
    SshResult r = s.run(file_size_script(ckpt), options_.command_timeout);
    if (!r.ok()) throw ClusterError(r.error(s.who()));
    if (r.output.rfind("-1", 0) == 0)
      throw JobError(s.who() + ": checkpoint " + ckpt + " is not there");
  }
  for (const auto& e : errors)
    if (!e.empty()) throw ClusterError("resume of " + job_id + ": " + e);

  LaunchRequest req;
  req.profile = profile;
  req.profile_path = old.profile_path;
  req.experiment_path = old.experiment_path;
  req.experiment_toml = old.experiment_toml;
  for (const auto& o : old.overrides)
    if (o.rfind("checkpoint.resume=", 0) != 0) req.overrides.push_back(o);
  for (const auto& o : overrides)
    if (o.rfind("checkpoint.resume=", 0) != 0) req.overrides.push_back(o);
  req.overrides.push_back("checkpoint.resume=" + ckpt);  // last: the record names it there
  req.resumed_from = job_id;
  return launch(req);
}

void Launcher::close_connections(const Profile& profile) const {
  parallel_for(profile.nodes.size(), [&](std::size_t i) { session(profile, i).close_master(); });
}

}  // namespace r1::cluster
