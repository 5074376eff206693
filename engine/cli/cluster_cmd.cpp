#include "engine/cli/cluster_cmd.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/host_keys.h"
#include "engine/cluster/hostfile.h"
#include "engine/cluster/job_monitor.h"
#include "engine/cluster/launcher.h"
#include "engine/cluster/ssh_config.h"
#include "engine/config/config.h"
#include "engine/events/event.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <variant>

#ifndef R1_VERSION
#define R1_VERSION "0.1.0"
#endif

namespace r1::cli {
namespace {

namespace rc = r1::cluster;
using nlohmann::json;

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted = true; }

struct Args {
  std::string state_dir;
  std::string profile;
  std::string experiment;
  std::vector<std::string> sets;
  std::vector<std::string> nodes;
  std::vector<std::string> fingerprints;
  std::string job;
  std::string checkpoint;
  std::string hostfile;
  std::vector<std::string> ssh_hosts;
  std::string name;
  std::string out;
  bool cpu = false;
  bool trust = false;
  bool follow = false;
  bool jsonl = false;
  bool keep_going = false;  // attach: do not stop the other ranks when one fails
  int grace = 10;
};

void say(const std::string& s) { std::cout << s << "\n" << std::flush; }

void warn(const std::string& s) { std::cerr << "cluster: " << s << "\n" << std::flush; }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

rc::Launcher make_launcher(const Args& a) {
  rc::LauncherOptions o;
  o.state_dir = a.state_dir;
  o.stop_grace = std::chrono::seconds(a.grace);
  return rc::Launcher(o);
}

// One event as a line for people; empty for events not worth a line.
std::string human_event(const rc::RankLine& l) {
  const std::string tag = "[rank " + std::to_string(l.rank) + "] ";
  if (!l.decoded.ok()) return tag + "bad event line: " + l.error();
  const auto& p = l.decoded.event->payload;
  namespace ev = r1::events;
  if (const auto* s = std::get_if<ev::Step>(&p))
    return tag + "step " + std::to_string(s->step) + "  loss " + fmt("%.4f", s->loss) + "  lr " +
           fmt("%.2e", s->lr) + "  " + fmt("%.0f", s->tokens_per_s) + " tok/s";
  if (const auto* e = std::get_if<ev::Eval>(&p))
    return tag + "eval at step " + std::to_string(e->step) + ": loss " + fmt("%.4f", e->loss) +
           "  perplexity " + fmt("%.2f", e->perplexity);
  if (const auto* c = std::get_if<ev::Checkpoint>(&p))
    return tag + "checkpoint at step " + std::to_string(c->step) + ": " + c->path + " (" +
           fmt("%.1f", c->bytes / 1e6) + " MB)";
  if (const auto* r = std::get_if<ev::RunStart>(&p))
    return tag + "run started on " + r->device + ", world size " + std::to_string(r->world_size) +
           ", " + fmt("%.2f", r->params_total / 1e6) + "M parameters";
  if (const auto* g = std::get_if<ev::Log>(&p))
    return g->level == ev::LogLevel::Debug ? std::string()
                                           : tag + ev::to_string(g->level) + ": " + g->text;
  if (const auto* e = std::get_if<ev::Error>(&p))
    return tag + "ERROR (" + e->cause + "): " + e->message;
  if (const auto* f = std::get_if<ev::Finish>(&p))
    return tag + "finished: " + ev::to_string(f->status) + " at step " + std::to_string(f->step) +
           " after " + fmt("%.1f", f->seconds) + " s";
  return {};
}

int exit_for(rc::JobState s) {
  switch (s) {
    case rc::JobState::Completed: return kExitOk;
    case rc::JobState::Failed: return kExitJobFailed;
    case rc::JobState::Stopped: return kExitStopped;
    default: return kExitOk;
  }
}

// Follows a job until it ends (exit code from its state) or Ctrl-C (detach, 130).
int follow(const rc::Launcher& launcher, const std::string& id, const Args& a) {
  rc::MonitorCallbacks cb;
  cb.on_line = [&](const rc::RankLine& l) {
    if (a.jsonl) {
      std::cout << l.text << "\n" << std::flush;
      if (!l.decoded.ok()) warn(l.error());
      return;
    }
    const std::string s = human_event(l);
    if (!s.empty()) say(s);
  };
  cb.on_update = [&](const rc::JobUpdate& u) {
    std::string s;
    switch (u.kind) {
      case rc::JobUpdate::Kind::State:
        s = "job " + id + ": " + rc::to_string(u.state) +
            (u.message.empty() ? "" : ": " + u.message);
        break;
      case rc::JobUpdate::Kind::Warning: s = "job " + id + ": warning: " + u.message; break;
      case rc::JobUpdate::Kind::Cleanup: s = "job " + id + ": cleanup: " + u.message; break;
    }
    if (a.jsonl)
      warn(s);
    else
      say(s);
  };
  rc::MonitorOptions mo;
  mo.stop_grace = std::chrono::seconds(a.grace);
  mo.stop_on_failure = !a.keep_going;
  auto old_int = std::signal(SIGINT, on_interrupt);
  auto old_term = std::signal(SIGTERM, on_interrupt);
  auto monitor = launcher.attach(id, cb, mo);
  while (!monitor->wait(std::chrono::milliseconds(200))) {
    if (g_interrupted) {
      monitor.reset();
      std::signal(SIGINT, old_int);
      std::signal(SIGTERM, old_term);
      warn("detached; job " + id +
           " keeps running. Follow it again with `r1-worker cluster "
           "attach " +
           id + "`, stop it with `r1-worker cluster stop " + id + "`");
      return kExitDetached;
    }
  }
  const rc::JobState st = monitor->record().state;
  monitor.reset();
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  return exit_for(st);
}

std::string gib(std::int64_t kb) { return fmt("%.1f", kb / 1048576.0); }

int cmd_probe(const Args& a) {
  const rc::Profile profile = rc::load_profile(a.profile);
  rc::Launcher launcher = make_launcher(a);
  int code = kExitOk;
  auto keys = launcher.check_host_keys(profile);
  std::vector<bool> usable(profile.nodes.size(), true);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    if (k.status == rc::HostKeyStatus::Unknown && a.trust) {
      auto t = rc::trust_host_key(launcher.session(profile, i));
      std::string fps;
      for (const auto& o : t.offered) fps += " " + o.type + " " + o.fingerprint;
      warn("node '" + profile.nodes[i].label() + "': trusted host key" + fps);
    } else if (k.status == rc::HostKeyStatus::Unknown || k.status == rc::HostKeyStatus::Changed) {
      usable[i] = false;
      code = kExitNode;
    }
  }
  std::vector<rc::NodeInfo> infos(profile.nodes.size());
  {
    rc::Profile reachable = profile;
    reachable.nodes.clear();
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < profile.nodes.size(); ++i)
      if (usable[i]) {
        reachable.nodes.push_back(profile.nodes[i]);
        index.push_back(i);
      }
    if (!reachable.nodes.empty()) {
      auto got = launcher.probe(reachable);
      for (std::size_t j = 0; j < got.size(); ++j) infos[index[j]] = got[j];
    }
  }
  for (std::size_t i = 0; i < profile.nodes.size(); ++i) {
    rc::NodeInfo& n = infos[i];
    n.node = profile.nodes[i].label();
    if (!usable[i]) {
      n.error = keys[i].message;
      n.failure = keys[i].status == rc::HostKeyStatus::Changed ? rc::SshFailureKind::HostKeyChanged
                                                               : rc::SshFailureKind::HostKeyUnknown;
    }
    if (!n.reachable || !n.worker_found || !n.worker_error.empty()) code = kExitNode;
    if (a.jsonl) {
      json j = {{"node", n.node},
                {"reachable", n.reachable},
                {"error", n.error},
                {"failure", rc::to_string(n.failure)},
                {"host_key", rc::to_string(keys[i].status)},
                {"latency_ms", n.latency_ms},
                {"os", n.os},
                {"kernel", n.kernel},
                {"arch", n.arch},
                {"cpus", n.cpus},
                {"mem_total_kb", n.mem_total_kb},
                {"mem_available_kb", n.mem_available_kb},
                {"cuda_driver", n.cuda_driver_version},
                {"nvcc", n.nvcc_version},
                {"nccl", n.nccl_version},
                {"worker_found", n.worker_found},
                {"worker_path", n.worker_path},
                {"worker_version", n.worker_version},
                {"libtorch", n.libtorch_version},
                {"worker_cuda", n.worker_cuda},
                {"worker_error", n.worker_error},
                {"slots", n.slots()}};
      j["gpus"] = json::array();
      for (const auto& g : n.gpus)
        j["gpus"].push_back({{"name", g.name}, {"memory_mib", g.memory_mib}, {"driver", g.driver}});
      std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      continue;
    }
    if (!n.reachable) {
      const bool key = n.failure == rc::SshFailureKind::HostKeyUnknown ||
                       n.failure == rc::SshFailureKind::HostKeyChanged;
      say(n.node + (key ? ": REFUSED: " : ": UNREACHABLE: ") + n.error);
      continue;
    }
    std::string gpus;
    for (const auto& g : n.gpus)
      gpus += (gpus.empty() ? "" : ", ") + g.name + " " + std::to_string(g.memory_mib) + " MiB";
    say(n.node + ": ok, " + fmt("%.0f", n.latency_ms) + " ms");
    say("  system   " + n.os + ", " + n.kernel + " " + n.arch);
    say("  cpu/ram  " + std::to_string(n.cpus) + " CPUs, " + gib(n.mem_available_kb) + " of " +
        gib(n.mem_total_kb) + " GiB available");
    say("  gpus     " +
        (gpus.empty() ? "none (" + std::to_string(n.slots()) + " CPU slots)"
                      : gpus + " (driver " + n.gpus.front().driver + ", CUDA " +
                            n.cuda_driver_version + ")") +
        (n.nccl_version.empty() ? "" : ", NCCL " + n.nccl_version));
    if (n.worker_found && n.worker_error.empty())
      say("  worker   " + n.worker_path + ": r1-worker " + n.worker_version + ", libtorch " +
          n.libtorch_version + ", CUDA " + n.worker_cuda);
    else
      say("  worker   NOT USABLE: " + n.worker_error);
  }
  return code;
}

int cmd_trust(const Args& a) {
  const rc::Profile profile = rc::load_profile(a.profile);
  rc::Launcher launcher = make_launcher(a);
  auto checks = launcher.trust(profile, a.nodes, a.fingerprints);
  for (const auto& c : checks) {
    std::string fps;
    for (const auto& o : c.offered) fps += " " + o.type + " " + o.fingerprint;
    const std::string who = c.message.substr(0, c.message.find("): ") + 1);  // "node 'x' (…)"
    say(who + ": trusted as " + c.lookup_name + ":" + fps);
  }
  return kExitOk;
}

int cmd_launch(const Args& a) {
  rc::LaunchRequest req;
  req.profile = rc::load_profile(a.profile);
  req.profile_path = a.profile;
  req.experiment_path = a.experiment;
  req.overrides = a.sets;
  rc::Launcher launcher = make_launcher(a);
  rc::JobRecord rec = launcher.launch(req);
  std::string where;
  for (const auto& n : rec.nodes) where += "\n  " + n.label + ": " + n.job_dir;
  const std::string msg = "job " + rec.id + " launched: " + std::to_string(rec.world_size) +
                          " ranks on " + std::to_string(rec.nodes.size()) + " nodes (master " +
                          rec.master_addr + ":" + std::to_string(rec.master_port) + ")" + where;
  if (a.jsonl)
    warn(msg);
  else
    say(msg);
  if (!a.follow) {
    if (!a.jsonl) say("follow it: r1-worker cluster attach " + rec.id);
    return kExitOk;
  }
  return follow(launcher, rec.id, a);
}

int cmd_status(const Args& a) {
  rc::Launcher launcher = make_launcher(a);
  if (a.job.empty()) {
    for (const auto& id : launcher.store().list()) {
      try {
        rc::JobRecord r = launcher.store().load(id);
        std::time_t t = static_cast<std::time_t>(r.created);
        char when[32];
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::localtime(&t));
        say(id + "  " + rc::to_string(r.state) + "  " + when + "  " + std::to_string(r.world_size) +
            " ranks" + (r.cause.empty() ? "" : "  (" + r.cause + ")"));
      } catch (const rc::JobError& e) {
        say(id + "  unreadable: " + e.what());
      }
    }
    return kExitOk;
  }
  rc::StatusReport rep = launcher.status(a.job);
  const rc::JobRecord& r = rep.record;
  if (a.jsonl) {
    json j = json::parse(rc::to_json(r));
    j["nodes_status"] = json::array();
    for (const auto& n : rep.nodes)
      j["nodes_status"].push_back(
          {{"node", n.node}, {"reachable", n.reachable}, {"error", n.error}});
    std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    say("job " + r.id + ": " + rc::to_string(r.state) +
        (r.cause.empty() ? "" : " (" + r.cause + ")"));
    for (const auto& n : rep.nodes)
      if (!n.reachable) say("  node '" + n.node + "': unreachable: " + n.error);
    for (const auto& k : r.ranks) {
      std::string s = "  rank " + std::to_string(k.rank) + " on '" + r.nodes[k.node].label +
                      "': " + (k.alive ? "running" : "ended");
      if (!k.alive && !k.finish.empty()) s += " (" + k.finish + ")";
      if (!k.alive && k.exit_code >= 0) s += ", exit code " + std::to_string(k.exit_code);
      s += ", " + std::to_string(k.lines) + " event lines delivered";
      say(s);
    }
    if (!r.last_checkpoint.empty())
      say("  last checkpoint: " + r.last_checkpoint + " (step " +
          std::to_string(r.last_checkpoint_step) + ")");
    if (!r.cleanup.empty()) say("  last stop: " + r.cleanup);
  }
  for (const auto& n : rep.nodes)
    if (!n.reachable) return kExitNode;
  return r.state == rc::JobState::Failed ? kExitJobFailed : kExitOk;
}

int cmd_stop(const Args& a) {
  rc::Launcher launcher = make_launcher(a);
  rc::StopReport rep = launcher.stop(a.job, std::chrono::seconds(a.grace));
  say("job " + a.job + ": " + rep.summary);
  return rep.verified ? kExitOk : kExitNode;
}

int cmd_resume(const Args& a) {
  rc::Launcher launcher = make_launcher(a);
  rc::JobRecord rec = launcher.resume(a.job, a.checkpoint, a.sets);
  const std::string msg = "job " + rec.id + " launched, resuming job " + a.job + " from " +
                          rec.overrides.back().substr(std::string("checkpoint.resume=").size());
  if (a.jsonl)
    warn(msg);
  else
    say(msg);
  return a.follow ? follow(launcher, rec.id, a) : kExitOk;
}

int cmd_profile(const Args& a) {
  rc::Profile p;
  p.name = a.name.empty() ? "cluster" : a.name;
  if (!a.hostfile.empty())
    p.nodes =
        rc::load_hostfile(a.hostfile, a.cpu ? rc::HostfileSlots::Cpu : rc::HostfileSlots::Gpus);
  if (!a.ssh_hosts.empty()) {
    auto entries = rc::ssh_config_hosts();
    for (const auto& h : a.ssh_hosts) {
      auto it = std::find_if(entries.begin(), entries.end(),
                             [&](const rc::SshHostEntry& e) { return e.alias == h; });
      if (it == entries.end())
        throw rc::ProfileError("~/.ssh/config has no Host entry '" + h + "'");
      p.nodes.push_back(rc::node_from_ssh_host(*it));
    }
  }
  if (p.nodes.empty()) throw rc::ProfileError("give --hostfile FILE or --ssh-host ALIAS");
  if (a.out.empty()) {
    rc::validate(p, "profile");
    std::cout << rc::to_toml(p);
  } else {
    rc::save_profile(p, a.out);
    say("wrote " + a.out + " (" + std::to_string(p.nodes.size()) + " nodes)");
  }
  return kExitOk;
}

int cmd_ssh_hosts(const Args&) {
  for (const auto& e : rc::ssh_config_hosts()) {
    std::string s = e.alias;
    if (!e.hostname.empty()) s += "  " + (e.user.empty() ? "" : e.user + "@") + e.hostname;
    if (e.port) s += ":" + std::to_string(e.port);
    say(s + "  (" + e.file + ":" + std::to_string(e.line) + ")");
  }
  return kExitOk;
}

// Runs a subcommand and turns every error into a message and an exit code.
template <class Fn>
void run(Fn fn, const Args& a) {
  int code = kExitUsage;
  try {
    code = fn(a);
  } catch (const rc::LaunchError& e) {
    warn(e.what());
    code = kExitNode;
  } catch (const rc::ProfileError& e) {
    warn(std::string("profile error: ") + e.what());
  } catch (const r1::ConfigError& e) {
    warn(std::string("experiment error: ") + e.what());
  } catch (const rc::JobError& e) {
    warn(e.what());
  } catch (const rc::ClusterError& e) {
    warn(e.what());
    code = kExitNode;
  } catch (const std::exception& e) {
    warn(std::string("error: ") + e.what());
  }
  throw CLI::RuntimeError(code);
}

}  // namespace

void print_versions(const std::map<std::string, std::string>& more) {
  std::printf("r1-worker %s\n", R1_VERSION);
  for (const auto& [k, v] : more) std::printf("%s %s\n", k.c_str(), v.c_str());
}

void add_cluster_command(CLI::App& app) {
  auto* cl = app.add_subcommand("cluster", "Launch and watch jobs on SSH nodes (docs/CLUSTER.md)");
  cl->fallthrough();  // `cluster status --state-dir D JOB` works too
  add_cluster_subcommands(*cl);
}

void add_cluster_subcommands(CLI::App& cl_app) {
  auto a = std::make_shared<Args>();
  auto* cl = &cl_app;
  cl->require_subcommand(1);
  cl->add_option("--state-dir", a->state_dir,
                 "Job records (default $XDG_STATE_HOME/r1-workbench/jobs)");

  auto profile_opt = [&](CLI::App* c) {
    c->add_option("--profile", a->profile, "Cluster profile (TOML)")
        ->required()
        ->check(CLI::ExistingFile);
  };
  auto job_arg = [&](CLI::App* c) { c->add_option("job", a->job, "Job id")->required(); };
  auto jsonl = [&](CLI::App* c, const char* what) { c->add_flag("--jsonl", a->jsonl, what); };
  auto grace = [&](CLI::App* c) {
    c->add_option("--grace", a->grace, "Seconds between SIGTERM and SIGKILL (default 10)")
        ->check(CLI::Range(0, 3600));
  };

  auto* probe = cl->add_subcommand("probe", "OS, CPUs, RAM, GPUs, versions and health per node");
  profile_opt(probe);
  probe->add_flag("--trust", a->trust, "Trust unknown host keys (prints their fingerprints)");
  jsonl(probe, "One JSON object per node");
  probe->callback([a] { run(cmd_probe, *a); });

  auto* trust = cl->add_subcommand("trust", "Add the nodes' host keys to known_hosts");
  profile_opt(trust);
  trust->add_option("--node", a->nodes, "Only this node (repeatable)");
  trust->add_option("--fingerprint", a->fingerprints,
                    "Trust only keys with this SHA256 fingerprint (repeatable)");
  trust->callback([a] { run(cmd_trust, *a); });

  auto* launch = cl->add_subcommand("launch", "Start an experiment on every node of a profile");
  profile_opt(launch);
  launch->add_option("-c,--config", a->experiment, "Experiment TOML")
      ->required()
      ->check(CLI::ExistingFile);
  launch->add_option("--set", a->sets, "Override a key on every rank (repeatable)");
  launch->add_flag("--follow", a->follow, "Stream events until the job ends");
  jsonl(launch, "With --follow: pass the event lines through");
  grace(launch);
  launch->callback([a] { run(cmd_launch, *a); });

  auto* status = cl->add_subcommand("status", "State of a job (or the list of jobs)");
  status->add_option("job", a->job, "Job id (none: list the jobs)");
  jsonl(status, "The record as JSON");
  status->callback([a] { run(cmd_status, *a); });

  auto* attach = cl->add_subcommand("attach", "Follow a job: backfill missed events, then stream");
  job_arg(attach);
  jsonl(attach, "Pass the event lines through");
  attach->add_flag("--keep-going", a->keep_going, "Do not stop the other ranks when one fails");
  grace(attach);
  attach->callback(
      [a] { run([](const Args& x) { return follow(make_launcher(x), x.job, x); }, *a); });

  auto* stop = cl->add_subcommand("stop", "Stop every rank of a job and verify nothing is left");
  job_arg(stop);
  grace(stop);
  stop->callback([a] { run(cmd_stop, *a); });

  auto* resume = cl->add_subcommand("resume", "Relaunch an ended job from its last checkpoint");
  job_arg(resume);
  resume->add_option("--checkpoint", a->checkpoint, "This checkpoint (a path on the nodes)");
  resume->add_option("--set", a->sets, "Override a key on every rank (repeatable)");
  resume->add_flag("--follow", a->follow, "Stream events until the job ends");
  jsonl(resume, "With --follow: pass the event lines through");
  grace(resume);
  resume->callback([a] { run(cmd_resume, *a); });

  auto* prof = cl->add_subcommand("profile", "Write a profile from a hostfile or ssh config hosts");
  prof->add_option("--hostfile", a->hostfile, "DeepSpeed hostfile (host slots=N)")
      ->check(CLI::ExistingFile);
  prof->add_flag("--cpu", a->cpu, "Hostfile slots are CPU ranks (default: GPUs)");
  prof->add_option("--ssh-host", a->ssh_hosts, "A Host alias of ~/.ssh/config (repeatable)");
  prof->add_option("--name", a->name, "Profile name");
  prof->add_option("-o,--output", a->out, "Write here (default: print)");
  prof->callback([a] { run(cmd_profile, *a); });

  auto* hosts = cl->add_subcommand("ssh-hosts", "List the Host aliases of ~/.ssh/config");
  hosts->callback([a] { run(cmd_ssh_hosts, *a); });
}

}  // namespace r1::cli
