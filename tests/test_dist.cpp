// Data parallelism over c10d Gloo on CPU: the torchrun variables, equality with one process
// that takes the whole batch, an agreed stop, and a dead peer that ends the job instead of
// hanging it (threads in this process, and real r1-worker processes).
#include "engine/dist/dist_env.h"
#include "engine/dist/grad_buckets.h"
#include "engine/dist/process_group.h"
#include "engine/events/event.h"
#include "engine/events/sink.h"
#include "engine/train/checkpoint.h"
#include "engine/train/trainer.h"

#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

using namespace r1;

namespace {

struct Recorder final : events::EventSink {
  std::mutex mu;
  std::vector<events::Event> all;
  void emit(const events::Event& e) override {
    std::lock_guard<std::mutex> l(mu);
    all.push_back(e);
  }
  template <class T>
  std::vector<T> of() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<T> out;
    for (const auto& e : all)
      if (auto* p = std::get_if<T>(&e.payload)) out.push_back(*p);
    return out;
  }
};

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string small_text() {
  const char* words[] = {"data", "parallel", "ranks", "share", "one", "batch", "and", "every",
                         "gradient", "is", "averaged", "over", "the", "group", "experts",
                         "route", "tokens", "to", "their", "place"};
  std::mt19937 rng(7);
  std::string s;
  for (int sent = 0; sent < 40; ++sent) {
    int n = 5 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + words[rng() % 20];
    s += ".\n";
  }
  return s;
}

QString tmp_root() {
  QDir().mkpath(QStringLiteral(R1_TEST_TMP));
  return QStringLiteral(R1_TEST_TMP);
}

// r1-nano shape, small: MLA, one dense + one MoE block (4 routed experts, top-2), MTP depth 1.
Config base_config(const QString& dir, const std::string& name, int64_t batch) {
  const std::string corpus = (dir + QStringLiteral("/corpus.txt")).toStdString();
  if (!QFile::exists(QString::fromStdString(corpus))) std::ofstream(corpus) << small_text();
  Config c = default_config({"model.vocab_size=320", "data.seq_len=32",
                             "data.batch_size=" + std::to_string(batch), "train.warmup_steps=2",
                             "train.lr=3e-3", "train.lr_embed=3e-3", "train.threads=1",
                             "eval.every=0", "eval.batches=4", "data.val_fraction=0.1",
                             "train.grad_accum=2", "checkpoint.every=0",
                             "model.balance_loss_alpha=0.001", "model.bias_update_speed=0.01"});
  c.data.paths = {corpus};
  c.data.cache_dir = (dir + QStringLiteral("/cache")).toStdString();
  c.run.dir = (dir + QStringLiteral("/runs")).toStdString();
  c.run.name = name;
  return c;
}

struct RankResult {
  events::FinishStatus status = events::FinishStatus::Failed;
  std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
  std::map<std::string, torch::Tensor> state;  // parameters and buffers after the run
  int64_t step = 0;
};

// Runs `world` trainers on threads of this process, one per rank, over Gloo.
std::vector<RankResult> run_ranks(int world, const std::function<Config(int)>& cfg_of,
                                  const std::function<train::TrainerHooks(int)>& hooks_of = {}) {
  const int port = free_port();
  std::vector<RankResult> out(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      train::TrainerOptions o;
      o.dist = dist::DistEnv{r, r, world, world, "127.0.0.1", port};
      auto& res = out[static_cast<size_t>(r)];
      train::Trainer t(cfg_of(r), res.rec, hooks_of ? hooks_of(r) : train::TrainerHooks{}, o);
      res.status = t.run();
      res.step = t.step();
      if (res.status == events::FinishStatus::Failed && !t.model()) return;
      for (auto& p : t.model()->named_parameters()) res.state[p.key()] = p.value().detach().clone();
      for (auto& b : t.model()->named_buffers()) res.state[b.key()] = b.value().clone();
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

double max_abs_diff(const std::map<std::string, torch::Tensor>& a,
                    const std::map<std::string, torch::Tensor>& b, std::string* worst = nullptr) {
  double m = 0;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) return std::numeric_limits<double>::infinity();
    double d = (v.to(torch::kFloat64) - it->second.to(torch::kFloat64)).abs().max().item<double>();
    if (d > m) {
      m = d;
      if (worst) *worst = k;
    }
  }
  return m;
}


QProcessEnvironment rank_env(int rank, int world, int port) {
  QProcessEnvironment env;
  env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
  env.insert(QStringLiteral("MASTER_PORT"), QString::number(port));
  env.insert(QStringLiteral("WORLD_SIZE"), QString::number(world));
  env.insert(QStringLiteral("RANK"), QString::number(rank));
  env.insert(QStringLiteral("LOCAL_RANK"), QString::number(rank));
  return env;
}

// r1-worker train --jsonl on the test corpus (base_config's keys as --set overrides).
QProcess* start_worker(const QString& dir, const char* name, int batch, const QStringList& sets,
                       const QProcessEnvironment& extra) {
  auto* p = new QProcess();
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  for (const auto& k : extra.keys()) env.insert(k, extra.value(k));
  env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
  p->setProcessEnvironment(env);
  p->setWorkingDirectory(dir);
  QStringList args = {QStringLiteral("train"), QStringLiteral("--jsonl"), QStringLiteral("-q")};
  QStringList all = {QStringLiteral("data.paths=[\"%1/corpus.txt\"]").arg(dir),
                     QStringLiteral("data.cache_dir=%1/cache").arg(dir),
                     QStringLiteral("run.dir=%1/runs").arg(dir),
                     QStringLiteral("run.name=%1").arg(QString::fromUtf8(name)),
                     QStringLiteral("model.vocab_size=320"), QStringLiteral("data.seq_len=32"),
                     QStringLiteral("data.batch_size=%1").arg(batch),
                     QStringLiteral("train.warmup_steps=2"), QStringLiteral("train.lr=3e-3"),
                     QStringLiteral("train.lr_embed=3e-3"), QStringLiteral("train.threads=1"),
                     QStringLiteral("data.val_fraction=0.1"), QStringLiteral("checkpoint.every=0"),
                     QStringLiteral("model.balance_loss_alpha=0.001"),
                     QStringLiteral("model.bias_update_speed=0.01")};
  all += sets;
  for (const auto& s : all) args << QStringLiteral("--set") << s;
  p->start(QStringLiteral(R1_WORKER), args);
  p->waitForStarted();
  return p;
}

}  // namespace

class TestDist final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() {
    const auto b = dist::available_backends();
    if (std::find(b.begin(), b.end(), "gloo") == b.end() &&
        QByteArray(QTest::currentTestFunction()) != "readsTorchrunVariables")
      QSKIP("this LibTorch build has no c10d Gloo backend (Debian: libgloo-dev)");
  }

  void readsTorchrunVariables() {
    std::map<std::string, std::string> env;
    auto get = [&](const char* n) -> const char* {
      auto it = env.find(n);
      return it == env.end() ? nullptr : it->second.c_str();
    };
    QVERIFY(!dist::dist_env_from(get).has_value());  // no WORLD_SIZE: a single process
    env = {{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
           {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29501"}};
    auto e = dist::dist_env_from(get);
    QVERIFY(e.has_value());
    QCOMPARE(e->rank, 3);
    QCOMPARE(e->local_rank, 1);
    QCOMPARE(e->world_size, 4);
    QCOMPARE(e->local_world_size, 2);
    QCOMPARE(e->master_addr, std::string("10.0.0.7"));
    QCOMPARE(e->master_port, 29501);

    auto fails_naming = [&](const char* var) {
      try {
        dist::dist_env_from(get);
      } catch (const dist::DistError& err) {
        return QString::fromUtf8(err.what()).contains(QString::fromUtf8(var));
      }
      return false;
    };
    env["RANK"] = "4";  // >= WORLD_SIZE
    QVERIFY(fails_naming("RANK"));
    env["RANK"] = "two";
    QVERIFY(fails_naming("RANK"));
    env["RANK"] = "1";
    env.erase("MASTER_ADDR");
    QVERIFY(fails_naming("MASTER_ADDR"));
    env["MASTER_ADDR"] = "h";
    env["MASTER_PORT"] = "70000";
    QVERIFY(fails_naming("MASTER_PORT"));
    env["MASTER_PORT"] = "29500";
    env.erase("LOCAL_RANK");  // LOCAL_WORLD_SIZE 2 of 4: the local rank cannot be guessed
    QVERIFY(fails_naming("LOCAL_RANK"));
  }

  void unusedParametersDoNotHoldBackTheBuckets() {
    // Three parameters in three buckets (tiny bucket size), backward order c, b, a. Rank 0's
    // loss never touches b (an MoE expert no token chose there); rank 1's touches all three.
    // Walking the graph at arm() must make b ready at once on rank 0, so that the buckets of
    // b and a start during backward (a post-hook on a) instead of waiting for finish(); and the
    // average of b's gradient is (0 + rank 1's) / 2.
    const int port = free_port();
    std::vector<size_t> early(2), unused(2);
    std::vector<std::vector<double>> grads(2);
    std::vector<std::string> errors(2);
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r)
      threads.emplace_back([&, r] {
        try {
          auto pg = dist::create_process_group(dist::DistEnv{r, r, 2, 2, "127.0.0.1", port},
                                               torch::kCPU);
          auto a = torch::full({4}, 1.0, torch::requires_grad());
          auto b = torch::full({4}, 2.0, torch::requires_grad());
          auto c = torch::full({4}, 3.0, torch::requires_grad());
          dist::GradBuckets buckets(*pg, {a, b, c}, /*bucket_bytes=*/8);
          if (buckets.buckets() != 3) throw std::runtime_error("expected 3 buckets");
          auto h = (a * 2).sum() * (c * 3).sum();
          auto loss = r == 0 ? h : h + (b * b).sum() * (r + 1);
          buckets.arm(loss);
          loss.backward();
          buckets.finish();
          early[r] = buckets.last_early();
          unused[r] = buckets.last_unused();
          for (auto& t : {a, b, c}) grads[r].push_back(t.grad()[0].item<double>());
        } catch (const std::exception& e) {
          errors[r] = e.what();
        }
      });
    for (auto& t : threads) t.join();
    QVERIFY2(errors[0].empty() && errors[1].empty(), (errors[0] + " | " + errors[1]).c_str());
    QCOMPARE(unused[0], size_t(1));
    QCOMPARE(unused[1], size_t(0));
    QCOMPARE(early[0], size_t(3));  // every bucket started before finish()
    QCOMPARE(early[1], size_t(3));
    // d/da = 2 * sum(3c) = 2 * 36 = 72; d/dc = 3 * sum(2a) = 24 on both ranks.
    // d/db: rank 0 none (0), rank 1: 2 * 2 * b = 8; mean 4.
    for (int r = 0; r < 2; ++r) {
      QCOMPARE(grads[r][0], 72.0);
      QCOMPARE(grads[r][1], 4.0);
      QCOMPARE(grads[r][2], 24.0);
    }
  }

  void replicasStayIdentical() {
    // Two ranks on threads of this process. Their models are initialised concurrently from
    // LibTorch's one global generator, so they start different: the broadcast from rank 0 must
    // make them identical, and identical averaged gradients must keep them so, bit for bit.
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ddpXXXXXX"));
    auto res = run_ranks(2, [&](int r) {
      Config c = base_config(dir.path(), "dp" + std::to_string(r), 4);
      c.train.steps = 5;
      c.eval.every = 5;
      return c;
    });
    for (auto& r : res) QCOMPARE(r.status, events::FinishStatus::Completed);
    std::string worst;
    QCOMPARE(max_abs_diff(res[0].state, res[1].state, &worst), 0.0);
    bool biased = false;  // the router biases moved (on the all-reduced expert loads)
    for (const auto& [k, v] : res[0].state)
      if (k.find("gate.bias") != std::string::npos) biased = biased || v.abs().max().item<double>() > 0;
    QVERIFY(biased);

    // Rank 0 reports the run; the other ranks only their logs and how they finished.
    QCOMPARE(res[0].rec->of<events::Step>().size(), size_t(5));
    QCOMPARE(res[0].rec->of<events::RunStart>().at(0).world_size, 2);
    QVERIFY(res[1].rec->of<events::Step>().empty());
    QVERIFY(res[1].rec->of<events::Eval>().empty());
    QCOMPARE(res[1].rec->of<events::Finish>().size(), size_t(1));
    QCOMPARE(res[0].rec->of<events::Checkpoint>().size(), size_t(1));  // rank 0 writes
    QVERIFY(res[1].rec->of<events::Checkpoint>().empty());
    QVERIFY(!res[0].rec->of<events::Eval>().empty());
    for (const auto& e : res[1].rec->all) QCOMPARE(e.header.rank, 1);
  }

  void twoProcessesEqualOneProcessWithTheWholeBatch() {
    // 2 ranks × batch 4 must train what 1 process × batch 8 trains: disjoint rows of the same
    // global batch, gradients averaged, global expert loads for the router biases. Real
    // r1-worker processes (each initialises from the same seed, as on a cluster).
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ddpXXXXXX"));
    base_config(dir.path(), "x", 4);  // writes the corpus
    const QStringList common = {QStringLiteral("train.steps=6"), QStringLiteral("train.grad_accum=2"),
                                QStringLiteral("eval.every=6"), QStringLiteral("eval.batches=4")};
    QProcess* single = start_worker(dir.path(), "single", 8, common, {});
    QList<QProcess*> ranks;
    const int port = free_port();
    for (int r = 0; r < 2; ++r) ranks << start_worker(dir.path(), "dp", 4, common, rank_env(r, 2, port));
    for (auto* p : ranks + QList<QProcess*>{single}) {
      QVERIFY(p->waitForFinished(240000));
      QCOMPARE(p->exitCode(), 0);
    }
    auto load = [&](const char* name) {
      std::map<std::string, torch::Tensor> st;
      Config c = base_config(dir.path(), name, 4);
      model::R1Model m(c.model);
      train::load_checkpoint((dir.path() + QStringLiteral("/runs/%1/checkpoints/ckpt-00000006.r1ckpt")
                                               .arg(QString::fromUtf8(name))).toStdString(),
                             m.get(), nullptr);
      for (auto& p : m->named_parameters()) st[p.key()] = p.value().detach().clone();
      for (auto& b : m->named_buffers()) st[b.key()] = b.value().clone();
      return st;
    };
    auto a = load("dp"), b = load("single");
    std::string worst;
    const double d = max_abs_diff(a, b, &worst);
    // Only the float32 summation order differs (halves averaged vs one mean).
    qInfo("max |param(2 ranks x 4) - param(1 x 8)| after 6 steps: %.3g (%s)", d, worst.c_str());
    QVERIFY2(d < 1e-4, qPrintable(QStringLiteral("differs by %1 in %2").arg(d).arg(
                           QString::fromStdString(worst))));

    auto steps = [](QProcess* p) {
      std::vector<events::Step> out;
      for (const auto& line : p->readAllStandardOutput().split('\n')) {
        auto r = events::decode(line.toStdString());
        if (r.ok())
          if (auto* s = std::get_if<events::Step>(&r.event->payload)) out.push_back(*s);
      }
      return out;
    };
    auto sd = steps(ranks[0]), ss = steps(single);
    QCOMPARE(sd.size(), size_t(6));
    QCOMPARE(ss.size(), size_t(6));
    for (size_t i = 0; i < sd.size(); ++i) {
      QVERIFY2(std::abs(sd[i].loss - ss[i].loss) < 1e-4,
               qPrintable(QStringLiteral("step %1: %2 vs %3").arg(i + 1).arg(sd[i].loss).arg(ss[i].loss)));
      QCOMPARE(sd[i].tokens, ss[i].tokens);  // global tokens
    }
    QVERIFY(steps(ranks[1]).empty());
  }

  void stopOnOneRankStopsEveryRankAtTheSameStep() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ddpXXXXXX"));
    std::atomic<int64_t> rank1_steps{0};
    auto res = run_ranks(
        2,
        [&](int r) {
          Config c = base_config(dir.path(), "stop" + std::to_string(r), 2);
          c.train.steps = 1000;
          return c;
        },
        [&](int r) {
          train::TrainerHooks h;
          if (r == 1) {
            h.after_backward = [&](int64_t, model::R1Model&) { ++rank1_steps; };
            h.stop_requested = [&] { return rank1_steps.load() >= 3; };
          }
          return h;
        });
    QCOMPARE(res[0].status, events::FinishStatus::Stopped);
    QCOMPARE(res[1].status, events::FinishStatus::Stopped);
    QCOMPARE(res[0].step, res[1].step);
    QCOMPARE(res[0].step, int64_t(3));
    QCOMPARE(res[0].rec->of<events::Checkpoint>().size(), size_t(1));  // saved on the way out
  }

  void deadPeerEndsTheJob() {
    // Rank 1 fails in the middle of step 2 and leaves; rank 0 must fail with a distributed
    // error soon after, not wait for the collective timeout (10 minutes by default).
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ddpXXXXXX"));
    const auto t0 = std::chrono::steady_clock::now();
    auto res = run_ranks(
        2,
        [&](int r) {
          Config c = base_config(dir.path(), "dead" + std::to_string(r), 2);
          c.train.steps = 1000;
          return c;
        },
        [&](int r) {
          train::TrainerHooks h;
          if (r == 1)
            h.after_backward = [](int64_t step, model::R1Model&) {
              if (step == 2) throw std::runtime_error("injected failure on rank 1");
            };
          return h;
        });
    const double sec =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    QCOMPARE(res[1].status, events::FinishStatus::Failed);
    QCOMPARE(res[0].status, events::FinishStatus::Failed);
    auto errs = res[0].rec->of<events::Error>();
    QVERIFY(!errs.empty());
    QCOMPARE(errs.back().cause, std::string("distributed"));
    qInfo("rank 0 ended %.1f s after the start: %s", sec, errs.back().message.c_str());
    QVERIFY(sec < 60);
  }

  void killedWorkerProcessEndsTheOthers() {
    // Real processes as a launcher starts them: r1-worker with the torchrun variables. kill -9
    // of rank 1 mid-run ends rank 0 with exit code 1 and a distributed error event.
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ddpXXXXXX"));
    const int port = free_port();
    base_config(dir.path(), "proc", 2);  // writes the corpus
    QList<QProcess*> procs;
    for (int r = 0; r < 2; ++r)
      procs << start_worker(dir.path(), "proc", 2, {QStringLiteral("train.steps=100000")},
                            rank_env(r, 2, port));
    // Wait until rank 0 has reported steps, then kill rank 1.
    QByteArray out0;
    QElapsedTimer wait;
    wait.start();
    while (out0.count("\"type\":\"step\"") < 3 && wait.elapsed() < 120000 &&
           procs[0]->state() == QProcess::Running) {
      procs[0]->waitForReadyRead(1000);
      out0 += procs[0]->readAllStandardOutput();
    }
    QVERIFY2(out0.count("\"type\":\"step\"") >= 3,
             (out0.right(2000) + procs[0]->readAllStandardError() + "\nrank 1: " +
              procs[1]->readAllStandardError())
                 .constData());
    ::kill(static_cast<pid_t>(procs[1]->processId()), SIGKILL);
    const auto t0 = std::chrono::steady_clock::now();
    QVERIFY(procs[0]->waitForFinished(60000));
    const double sec =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out0 += procs[0]->readAllStandardOutput();
    qInfo("rank 0 exited %.2f s after rank 1 was killed (exit code %d)", sec,
          procs[0]->exitCode());
    QCOMPARE(procs[0]->exitCode(), 1);
    QVERIFY(out0.contains("\"cause\":\"distributed\""));
    QVERIFY(out0.contains("\"status\":\"failed\""));
    QVERIFY(sec < 10);
    procs[1]->waitForFinished(5000);
  }

  void frozenPeerEndsTheJob() {
    // A peer that stops without closing its sockets (SIGSTOP here; a hung driver or a node that
    // vanished from the network in real life) never fails a Gloo or NCCL collective: without
    // the peer watch rank 0 would wait for the collective timeout (10 minutes). With it, rank 0
    // must end once rank 1's heartbeat is 3 s stale, naming rank 1.
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ddpXXXXXX"));
    const int port = free_port();
    base_config(dir.path(), "frozen", 2);
    QList<QProcess*> procs;
    for (int r = 0; r < 2; ++r) {
      QProcessEnvironment env = rank_env(r, 2, port);
      env.insert(QStringLiteral("R1_PEER_TIMEOUT_S"), QStringLiteral("3"));
      procs << start_worker(dir.path(), "frozen", 2, {QStringLiteral("train.steps=100000")}, env);
    }
    QByteArray out0;
    QElapsedTimer wait;
    wait.start();
    while (out0.count("\"type\":\"step\"") < 3 && wait.elapsed() < 120000 &&
           procs[0]->state() == QProcess::Running) {
      procs[0]->waitForReadyRead(1000);
      out0 += procs[0]->readAllStandardOutput();
    }
    QVERIFY2(out0.count("\"type\":\"step\"") >= 3,
             (out0.right(2000) + procs[0]->readAllStandardError()).constData());
    const auto pid1 = static_cast<pid_t>(procs[1]->processId());
    ::kill(pid1, SIGSTOP);
    const auto t0 = std::chrono::steady_clock::now();
    const bool ended = procs[0]->waitForFinished(60000);
    const double sec =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::kill(pid1, SIGKILL);
    procs[1]->waitForFinished(5000);
    if (!ended) {
      procs[0]->kill();
      procs[0]->waitForFinished(5000);
    }
    out0 += procs[0]->readAllStandardOutput();
    QVERIFY2(ended, "rank 0 still runs 60 s after rank 1 froze");
    qInfo("rank 0 exited %.2f s after rank 1 froze (exit code %d)", sec, procs[0]->exitCode());
    QCOMPARE(procs[0]->exitCode(), 1);
    QVERIFY2(out0.contains("rank 1 has not been heard from"), out0.right(1500).constData());
    QVERIFY(out0.contains("\"cause\":\"distributed\""));
    QVERIFY(out0.contains("\"status\":\"failed\""));
    // Stale after 3 s counted from the last beat rank 0 saw (up to 1 s before the stop), + up
    // to 1 s to its next look; the rest is slack for 2 loaded cores.
    QVERIFY(sec >= 1.0);
    QVERIFY(sec < 20);
    qDeleteAll(procs);
  }
};

QTEST_GUILESS_MAIN(TestDist)
#include "test_dist.moc"
