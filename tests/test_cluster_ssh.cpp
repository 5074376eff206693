// The launcher against a real OpenSSH server: two loopback "nodes" (127.0.0.2, 127.0.0.3) of
// an sshd generated at test time (tests/fixtures/sshd_fixture.sh), logging in as a dedicated
// user. Host keys (unknown, trusted, changed), probe, a data-parallel r1-worker job of two ranks
// whose events stream back, stop (checked in the process table), a rank killed with SIGKILL
// (failure named within 5 s, the other rank stopped), resume from the last checkpoint, re-attach
// with a new launcher (no event lost or repeated), 2 nodes × 2 CPU ranks end to end, the
// `cluster launch --follow` process SIGKILLed then `cluster attach` (every step counted), a node
// that is down, and hostile names, paths and values that must stay data.
#include "engine/cluster/cluster_error.h"
#include "engine/cluster/job_monitor.h"
#include "engine/cluster/launcher.h"
#include "engine/cluster/process.h"
#include "engine/cluster/shell.h"
#include "engine/events/event.h"

#include <QtTest/QtTest>
#include <QDirIterator>
#include <QRegularExpression>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>

namespace rc = r1::cluster;
namespace ev = r1::events;

namespace {

const char* kUser = "r1node";
constexpr auto kJobTimeout = std::chrono::seconds(120);

QString q(const std::string& s) { return QString::fromStdString(s); }

// A TCP port nothing listens on at 127.0.0.2 and 127.0.0.3.
int free_port(int avoid = 0) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    bool ok = port > 0 && port != avoid;
    for (const char* ip : {"127.0.0.2", "127.0.0.3"}) {
      int f = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in b{};
      b.sin_family = AF_INET;
      b.sin_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET, ip, &b.sin_addr);
      ok = ok && ::bind(f, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0;
      ::close(f);
    }
    if (ok) return port;
  }
  return 0;
}

rc::ProcessResult sh(const std::string& command, int timeout_s = 60) {
  rc::ProcessSpec s;
  s.argv = {"/bin/sh", "-c", command};
  s.timeout = std::chrono::seconds(timeout_s);
  return rc::run_process(s);
}

struct Cli {
  int code;
  QString out, err;
};

Cli worker_cli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(R1_WORKER), args);
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
    return {-1, {}, QStringLiteral("timeout")};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2,
          QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

// Live (non-zombie) processes whose working directory is under `dir` (or, with ranks_only,
// under one of its rank folders) or whose command line mentions it: the process table of the
// "nodes" (they are this machine). The launcher's log followers work in the job folder itself
// and end on their own once no rank is left.
QStringList processes_under(const std::string& dir, bool ranks_only = false) {
  QStringList found;
  const QDir proc(QStringLiteral("/proc"));
  for (const QString& pid : proc.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    bool num = false;
    pid.toLong(&num);
    if (!num || pid.toLong() == ::getpid()) continue;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) continue;
    const QByteArray st = stat.readAll();
    const int close = st.lastIndexOf(") ");
    if (close < 0 || st.size() <= close + 2 || st[close + 2] == 'Z' || st[close + 2] == 'X')
      continue;
    const QString cwd = QFile::symLinkTarget(QStringLiteral("/proc/%1/cwd").arg(pid));
    QFile cmd(QStringLiteral("/proc/%1/cmdline").arg(pid));
    QByteArray args;
    if (cmd.open(QIODevice::ReadOnly)) args = cmd.readAll().replace('\0', ' ');
    const bool in_dir = ranks_only ? cwd.startsWith(q(dir + "/rank")) : cwd.startsWith(q(dir));
    if (in_dir || args.contains(QByteArray::fromStdString(dir)))
      found << pid + QStringLiteral(" ") + QString::fromUtf8(args.left(160));
  }
  return found;
}

QByteArray environ_of(long pid) {
  QFile f(QStringLiteral("/proc/%1/environ").arg(pid));
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool has_env(const QByteArray& env, const std::string& kv) {
  for (const QByteArray& e : env.split('\0'))
    if (e == QByteArray::fromStdString(kv)) return true;
  return false;
}

// Everything a monitor hands out, thread-safe.
struct Collector {
  mutable std::mutex m;
  std::vector<rc::RankLine> lines;
  std::vector<rc::JobUpdate> updates;
  QElapsedTimer clock;
  qint64 failed_at_ms = -1;

  rc::MonitorCallbacks callbacks() {
    clock.start();
    rc::MonitorCallbacks cb;
    cb.on_line = [this](const rc::RankLine& l) {
      std::lock_guard<std::mutex> lock(m);
      lines.push_back(l);
    };
    cb.on_update = [this](const rc::JobUpdate& u) {
      std::lock_guard<std::mutex> lock(m);
      if (u.kind == rc::JobUpdate::Kind::State && u.state == rc::JobState::Failed &&
          failed_at_ms < 0)
        failed_at_ms = clock.elapsed();
      updates.push_back(u);
    };
    return cb;
  }
  std::vector<std::int64_t> steps(int rank) const {
    std::lock_guard<std::mutex> lock(m);
    std::vector<std::int64_t> s;
    for (const auto& l : lines)
      if (l.rank == rank && l.decoded.ok())
        if (const auto* st = std::get_if<ev::Step>(&l.decoded.event->payload))
          s.push_back(st->step);
    return s;
  }
  std::vector<std::string> texts(int rank) const {
    std::lock_guard<std::mutex> lock(m);
    std::vector<std::string> t;
    for (const auto& l : lines)
      if (l.rank == rank) t.push_back(l.text);
    return t;
  }
  int bad_lines() const {
    std::lock_guard<std::mutex> lock(m);
    int n = 0;
    for (const auto& l : lines) n += l.decoded.ok() ? 0 : 1;
    return n;
  }
  std::string finish(int rank) const {
    std::lock_guard<std::mutex> lock(m);
    std::string f;
    for (const auto& l : lines)
      if (l.rank == rank && l.decoded.ok())
        if (const auto* x = std::get_if<ev::Finish>(&l.decoded.event->payload))
          f = ev::to_string(x->status);
    return f;
  }
  std::vector<rc::JobUpdate> updates_of(rc::JobUpdate::Kind k) const {
    std::lock_guard<std::mutex> lock(m);
    std::vector<rc::JobUpdate> out;
    for (const auto& u : updates)
      if (u.kind == k) out.push_back(u);
    return out;
  }
};

std::vector<std::string> file_lines(const std::string& path) {
  QFile f(q(path));
  std::vector<std::string> out;
  if (!f.open(QIODevice::ReadOnly)) return out;
  const QByteArray all = f.readAll();
  for (const QByteArray& l : all.split('\n'))
    if (!l.isEmpty()) out.push_back(l.toStdString());
  return out;
}


// Complete event lines of `--jsonl` output, by the rank in each line's header (an unterminated
// last line, cut by a SIGKILL, is left out). Lines that do not decode go to `bad`.
std::map<int, std::vector<std::string>> jsonl_by_rank(const QByteArray& out, QStringList* bad) {
  std::map<int, std::vector<std::string>> by;
  QList<QByteArray> parts = out.split('\n');
  parts.removeLast();  // empty when the output ends with a newline; else the cut line
  for (const QByteArray& l : parts) {
    const auto d = ev::decode(std::string_view(l.constData(), std::size_t(l.size())));
    if (!d.ok()) {
      *bad << QString::fromUtf8(l.left(120)) + QStringLiteral(": ") + q(d.error);
      continue;
    }
    by[d.event->header.rank].push_back(l.toStdString());
  }
  return by;
}

std::vector<std::int64_t> steps_in(const std::vector<std::string>& lines) {
  std::vector<std::int64_t> s;
  for (const auto& l : lines) {
    const auto d = ev::decode(l);
    if (d.ok())
      if (const auto* st = std::get_if<ev::Step>(&d.event->payload)) s.push_back(st->step);
  }
  return s;
}

}  // namespace

class TestClusterSsh final : public QObject {
  Q_OBJECT
  // Short (control sockets live in it) and under /tmp, where the test user can reach it.
  QTemporaryDir tmp_{QStringLiteral("/tmp/r1clXXXXXX")};
  std::string dir_;
  int port_ = 0;
  bool sshd_ = false;
  rc::Profile profile_;
  std::string profile_path_, experiment_path_, fingerprint_;
  std::unique_ptr<rc::Launcher> launcher_;

  std::string fixture(const std::string& args) {
    rc::ProcessResult r = sh("sh " + rc::sh_quote(R1_SSHD_FIXTURE) + " " + args, 60);
    return r.ok() ? std::string() : r.describe() + ": " + r.err + r.out;
  }

  rc::LaunchRequest request(const std::vector<std::string>& overrides) {
    rc::LaunchRequest req;
    req.profile = profile_;
    req.profile.master_port = free_port(port_);  // a fresh rendezvous port per job
    req.profile_path = profile_path_;
    req.experiment_path = experiment_path_;
    req.overrides = overrides;
    return req;
  }

  std::string rank_dir(const rc::JobRecord& r, int rank) {
    return r.nodes[r.rank(rank)->node].job_dir + "/rank" + std::to_string(rank);
  }

  rc::MonitorOptions fast() {
    rc::MonitorOptions o;
    o.stop_grace = std::chrono::seconds(5);
    return o;
  }

 private Q_SLOTS:
  void initTestCase() {
    if (::getuid() != 0)
      QSKIP("needs root: it creates the user r1node and runs an sshd of its own (CI runs as root)");
    if (!QFile::exists(QStringLiteral("/usr/sbin/sshd")))
      QSKIP("/usr/sbin/sshd is missing: install openssh-server (setup.sh does)");
    QVERIFY(tmp_.isValid());
    dir_ = tmp_.path().toStdString();
    QVERIFY(QFile::setPermissions(
        tmp_.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup |
                         QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther));
    port_ = free_port();
    QVERIFY(port_ > 0);
    const std::string err = fixture("start " + rc::sh_quote(dir_ + "/sshd") + " " +
                                    std::to_string(port_) + " " + kUser + " 127.0.0.2 127.0.0.3");
    QVERIFY2(err.empty(), err.c_str());
    sshd_ = true;
    const passwd* pw = ::getpwnam(kUser);
    QVERIFY(pw);
    QVERIFY(QDir().mkpath(q(dir_ + "/work")));
    QVERIFY(::chown((dir_ + "/work").c_str(), pw->pw_uid, pw->pw_gid) == 0);
    {
      QFile corpus(q(dir_ + "/corpus.txt"));
      QVERIFY(corpus.open(QIODevice::WriteOnly));
      for (int i = 0; i < 60; ++i)
        corpus.write(
            QStringLiteral("line %1: latent attention routes tokens to experts. 注意力 %1\n")
                .arg(i % 7)
                .toUtf8());
    }
    experiment_path_ = dir_ + "/experiment.toml";
    {
      QFile e(q(experiment_path_));
      QVERIFY(e.open(QIODevice::WriteOnly));
      e.write(QStringLiteral("[run]\nname = \"loop\"\n"
                             "[model]\npreset = \"r1-nano\"\nvocab_size = 300\n"
                             "[data]\npaths = [\"%1/corpus.txt\"]\nseq_len = 16\nbatch_size = 4\n"
                             "val_fraction = 0.2\ncache_dir = \"%1/work/cache\"\n"
                             "[train]\nsteps = 6\nthreads = 1\nwarmup_steps = 2\n"
                             "[eval]\nevery = 0\nbatches = 2\n"
                             "[checkpoint]\nevery = 3\n")
                  .arg(tmp_.path())
                  .toUtf8());
    }
    {
      rc::ProcessResult fp = sh("ssh-keygen -lf " + rc::sh_quote(dir_ + "/sshd/host_ed25519.pub"));
      QVERIFY2(fp.ok(), fp.err.c_str());
      fingerprint_ = fp.out.substr(fp.out.find(' ') + 1);
      fingerprint_ = fingerprint_.substr(0, fingerprint_.find(' '));
      QVERIFY(q(fingerprint_).startsWith(QStringLiteral("SHA256:")));
    }

    profile_.name = "loop";
    for (const char* host : {"127.0.0.2", "127.0.0.3"}) {
      rc::Node n;
      n.host = host;
      n.port = port_;
      n.user = kUser;
      n.identity_file = dir_ + "/sshd/client_ed25519";
      n.slots = 1;
      profile_.nodes.push_back(n);
    }
    // Hostile text where the launcher puts values into shell scripts: it must stay data.
    profile_.nodes[0].name = "n1; $(touch PWNED) 'x' `id`";
    profile_.nodes[1].name = "n2";
    profile_.remote_workdir = dir_ + "/work/jobs dir 'q' $(touch PWNED); x";
    profile_.env["R1_TEST_VALUE"] = "a'b \"c\" $(touch PWNED) ; `id` \\ \nend";
    profile_.known_hosts = dir_ + "/known hosts";  // a space: ssh splits option values
    profile_.ssh_config = "/dev/null";             // this test alone decides ssh's options
    profile_.worker = R1_WORKER;
    profile_.gloo_socket_ifname = "lo";
    profile_.setup = "R1_SETUP_RAN='yes it did'\nexport R1_SETUP_RAN";
    profile_path_ = dir_ + "/profile.toml";
    rc::save_profile(profile_, profile_path_);

    rc::LauncherOptions lo;
    lo.state_dir = dir_ + "/state";
    lo.control_dir = dir_ + "/ctl";
    lo.stop_grace = std::chrono::seconds(5);
    launcher_ = std::make_unique<rc::Launcher>(lo);
  }

  void cleanupTestCase() {
    if (launcher_) {
      // Whatever a failed test left running goes now.
      for (const auto& id : launcher_->store().list()) {
        try {
          launcher_->stop_ranks(launcher_->store().load(id), std::chrono::seconds(1));
        } catch (const std::exception&) {
        }
      }
      launcher_->close_connections(profile_);
    }
    if (sshd_) fixture("stop " + rc::sh_quote(dir_ + "/sshd"));
    if (!dir_.empty()) {
      QVERIFY2(processes_under(dir_).isEmpty(), qPrintable(processes_under(dir_).join('\n')));
      const std::string pwned =
          sh("find /tmp /home/r1node " + rc::sh_quote(QDir::currentPath().toStdString()) +
             " -maxdepth 6 -name PWNED 2>/dev/null")
              .out;
      QVERIFY2(pwned.empty(), pwned.c_str());
    }
  }

  void unknownHostKeyIsReportedAndRefused() {
    auto checks = launcher_->check_host_keys(profile_);
    QCOMPARE(checks.size(), std::size_t(2));
    for (const auto& c : checks) {
      QCOMPARE(c.status, rc::HostKeyStatus::Unknown);
      QCOMPARE(c.offered.size(), std::size_t(1));
      QCOMPARE(q(c.offered[0].fingerprint), q(fingerprint_));
      QVERIFY2(q(c.message).contains(q(fingerprint_)), c.message.c_str());
      QVERIFY2(q(c.lookup_name).startsWith(QStringLiteral("[127.0.0.")) &&
                   q(c.lookup_name).endsWith(QStringLiteral("]:%1").arg(port_)),
               c.lookup_name.c_str());
    }
    QVERIFY2(
        q(checks[0].message)
            .startsWith(QStringLiteral("node 'n1; $(touch PWNED) 'x' `id`' (r1node@127.0.0.2:")),
        checks[0].message.c_str());
    // ssh itself refuses (BatchMode, strict checking): nothing was trusted implicitly.
    auto infos = launcher_->probe(profile_);
    for (const auto& n : infos) {
      QVERIFY(!n.reachable);
      QCOMPARE(n.failure, rc::SshFailureKind::HostKeyUnknown);
      QVERIFY2(q(n.error).contains(QStringLiteral("host key not in known_hosts")), n.error.c_str());
    }
    QVERIFY(!QFile::exists(q(profile_.known_hosts)) || QFile(q(profile_.known_hosts)).size() == 0);
    Cli c = worker_cli({QStringLiteral("cluster"), QStringLiteral("probe"),
                        QStringLiteral("--profile"), q(profile_path_)});
    QCOMPARE(c.code, 3);
    QVERIFY2(c.out.contains(q(fingerprint_)) && c.out.contains(QStringLiteral("REFUSED")),
             qPrintable(c.out + c.err));
  }

  void trustThenProbe() {
    // A fingerprint the node does not offer adds nothing.
    QVERIFY_THROWS_EXCEPTION(rc::ClusterError,
                             launcher_->trust(profile_, {"n2"}, {"SHA256:not-the-key"}));
    auto trusted = launcher_->trust(profile_, {}, {fingerprint_});
    QCOMPARE(trusted.size(), std::size_t(2));
    for (const auto& t : trusted) QCOMPARE(t.status, rc::HostKeyStatus::Known);
    QFile kh(q(profile_.known_hosts));
    QVERIFY(kh.open(QIODevice::ReadOnly));
    const QString khText = QString::fromUtf8(kh.readAll());
    QVERIFY2(khText.contains(QStringLiteral("[127.0.0.2]:%1 ssh-ed25519 ").arg(port_)),
             qPrintable(khText));
    QCOMPARE(khText.count(QLatin1Char('\n')), 2);

    QElapsedTimer t;
    t.start();
    auto infos = launcher_->probe(profile_);
    const qint64 probe_ms = t.elapsed();
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    for (const auto& n : infos) {
      QVERIFY2(n.reachable, n.error.c_str());
      QCOMPARE(n.cpus, int(cpus));
      QVERIFY(n.mem_total_kb > 0 && n.mem_available_kb > 0 && n.mem_available_kb <= n.mem_total_kb);
      QVERIFY(!n.os.empty() && !n.kernel.empty());
      QVERIFY2(n.worker_found, n.worker_error.c_str());
      QCOMPARE(q(n.worker_path), QStringLiteral(R1_WORKER));
      QCOMPARE(q(n.worker_version), QStringLiteral("0.1.0"));
      QVERIFY(!n.libtorch_version.empty());
      QVERIFY(n.gpus.empty());  // no nvidia-smi here: CPU slots
      QCOMPARE(n.slots(), int(cpus));
      QVERIFY(n.latency_ms > 0 && n.latency_ms < 2000);
    }
    qInfo("probe of 2 nodes: %lld ms (first connection included), latency %.1f / %.1f ms", probe_ms,
          infos[0].latency_ms, infos[1].latency_ms);
    Cli c = worker_cli({QStringLiteral("cluster"), QStringLiteral("probe"),
                        QStringLiteral("--profile"), q(profile_path_)});
    QVERIFY2(c.code == 0, qPrintable(c.out + c.err));
    QVERIFY2(c.out.contains(QStringLiteral("r1-worker 0.1.0")), qPrintable(c.out));

    // Hashed known_hosts entries (HashKnownHosts) are found too.
    rc::ProcessResult h = sh("ssh-keygen -H -f " + rc::sh_quote(profile_.known_hosts) +
                             " && rm -f " + rc::sh_quote(profile_.known_hosts + ".old"));
    QVERIFY2(h.ok(), h.err.c_str());
    QVERIFY(!q(sh("cat " + rc::sh_quote(profile_.known_hosts)).out)
                 .contains(QStringLiteral("127.0.0")));
    for (const auto& k : launcher_->check_host_keys(profile_))
      QCOMPARE(k.status, rc::HostKeyStatus::Known);
  }

  void sessionRunsAndStreams() {
    const rc::SshSession s = launcher_->session(profile_, 1);
    rc::SshResult r = s.run("echo out; echo err >&2; exit 3\n", std::chrono::seconds(20));
    QVERIFY(!r.failure);
    QCOMPARE(r.process.exit_code, 3);
    QCOMPARE(q(r.output), QStringLiteral("out\n"));
    QCOMPARE(q(r.process.err), QStringLiteral("err\n"));
    QVERIFY2(q(r.error(s.who())).contains(QStringLiteral("node 'n2' (r1node@127.0.0.3:")),
             r.error(s.who()).c_str());
    // A deadline ends a command that hangs, and says so naming the node.
    QElapsedTimer t;
    t.start();
    r = s.run("sleep 30\n", std::chrono::milliseconds(700));
    QCOMPARE(r.failure.kind, rc::SshFailureKind::Timeout);
    QVERIFY(t.elapsed() < 5000);
    QVERIFY2(q(r.failure.message).startsWith(QStringLiteral("node 'n2'")),
             r.failure.message.c_str());
    // Lines of a long-running command arrive as they are printed.
    std::mutex m;
    std::vector<std::string> lines;
    std::atomic<bool> ended{false};
    auto stream = s.stream_lines(
        "for i in 1 2 3; do echo line $i; sleep 0.3; done; sleep 30\n",
        [&](const std::string& l) {
          std::lock_guard<std::mutex> lock(m);
          lines.push_back(l);
        },
        [&](const rc::SshResult&) { ended = true; });
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard<std::mutex> lock(m);
          return lines.size() == 3;
        }(),
        10000);
    QVERIFY(!ended);
    QCOMPARE(q(lines[2]), QStringLiteral("line 3"));
    stream->terminate();
    QVERIFY(ended);
  }

  void nodeThatIsDown() {
    rc::Profile p = profile_;
    p.nodes[1].host = "127.0.0.4";  // nothing listens there
    p.nodes[1].name = "down";
    auto infos = launcher_->probe(p);
    QVERIFY(infos[0].reachable);
    QVERIFY(!infos[1].reachable);
    QCOMPARE(infos[1].failure, rc::SshFailureKind::ConnectionRefused);
    QVERIFY2(q(infos[1].error).startsWith(QStringLiteral("node 'down' (r1node@127.0.0.4:")),
             infos[1].error.c_str());
    auto keys = launcher_->check_host_keys(p);
    QCOMPARE(keys[1].status, rc::HostKeyStatus::Unscannable);
    QVERIFY2(q(keys[1].message).contains(QStringLiteral("node 'down'")), keys[1].message.c_str());

    // A launch that cannot reach every node takes back the ranks it started.
    rc::LaunchRequest req = request({"train.steps=100000"});
    req.profile = p;
    std::string what;
    try {
      launcher_->launch(req);
    } catch (const rc::LaunchError& e) {
      what = e.what();
    }
    QVERIFY2(q(what).contains(QStringLiteral("node 'down' (r1node@127.0.0.4:")) &&
                 q(what).contains(QStringLiteral("connection refused")),
             what.c_str());
    QVERIFY2(q(what).contains(QStringLiteral("verified: no process of the job is left")),
             what.c_str());
    const std::string id = what.substr(4, what.find(':') - 4);
    rc::JobRecord rec = launcher_->store().load(id);
    QCOMPARE(rec.state, rc::JobState::Failed);
    QVERIFY(!rec.nodes[0].job_dir.empty());
    QVERIFY2(processes_under(rec.nodes[0].job_dir, true).isEmpty(),
             qPrintable(processes_under(rec.nodes[0].job_dir, true).join('\n')));
  }

  void launchStreamsEventsToCompletion() {
    QElapsedTimer t;
    t.start();
    rc::JobRecord rec = launcher_->launch(request({}));
    const qint64 launch_ms = t.elapsed();
    QCOMPARE(rec.state, rc::JobState::Running);
    QCOMPARE(rec.world_size, 2);
    QCOMPARE(q(rec.master_addr), QStringLiteral("127.0.0.2"));
    for (const auto& n : rec.nodes) {
      QVERIFY2(q(n.job_dir).startsWith(q(dir_ + "/work/jobs dir 'q' $(touch PWNED); x/")),
               n.job_dir.c_str());
      QVERIFY(QFileInfo(q(n.job_dir + "/experiment.toml")).isFile());
    }
    Collector col;
    auto mon = launcher_->attach(rec.id, col.callbacks(), fast());
    QVERIFY(mon->wait(kJobTimeout));
    const qint64 total_ms = t.elapsed();
    rec = mon->record();
    mon.reset();
    QCOMPARE(rec.state, rc::JobState::Completed);
    QCOMPARE(col.bad_lines(), 0);
    QCOMPARE(col.steps(0), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(q(col.finish(0)), QStringLiteral("completed"));
    QCOMPARE(q(col.finish(1)), QStringLiteral("completed"));
    QVERIFY(q(rec.last_checkpoint)
                .endsWith(QStringLiteral("/rank0/loop/checkpoints/ckpt-00000006.r1ckpt")));
    QCOMPARE(rec.last_checkpoint_step, std::int64_t(6));
    const auto states = col.updates_of(rc::JobUpdate::Kind::State);
    QCOMPARE(states.size(), std::size_t(1));
    QCOMPARE(states[0].state, rc::JobState::Completed);
    // What was delivered is exactly the node-side logs, and the record's offsets say so.
    for (int r = 0; r < 2; ++r) {
      const std::string log = rank_dir(rec, r) + "/events.jsonl";
      QVERIFY(col.texts(r) == file_lines(log));
      QCOMPARE(rec.rank(r)->offset, std::int64_t(QFileInfo(q(log)).size()));
      QCOMPARE(rec.rank(r)->lines, std::int64_t(file_lines(log).size()));
      QVERIFY(QFileInfo(q(rank_dir(rec, r) + "/run.sh")).isFile());
      QCOMPARE(QFileInfo(q(rank_dir(rec, r) + "/events.jsonl")).ownerId(),
               ::getpwnam(kUser)->pw_uid);
    }
    QVERIFY(processes_under(rec.nodes[0].job_dir).isEmpty());
    qInfo("launch of 2 ranks: %lld ms; launch to completion (6 steps, events streamed): %lld ms",
          launch_ms, total_ms);
  }

  void stopEndsEveryRankOnEveryNode() {
    rc::JobRecord rec = launcher_->launch(request({"train.steps=100000", "checkpoint.every=0"}));
    Collector col;
    auto mon = launcher_->attach(rec.id, col.callbacks(), fast());
    QTRY_VERIFY_WITH_TIMEOUT(col.steps(0).size() >= 2, 60000);
    // The ranks' environment: torchrun's variables, the profile's, hostile text intact.
    for (int r = 0; r < 2; ++r) {
      const long pid = rec.rank(r)->pid;
      const QByteArray env = environ_of(pid);
      QVERIFY2(!env.isEmpty(), "cannot read the worker's environment");
      QVERIFY(has_env(env, "RANK=" + std::to_string(r)));
      QVERIFY(has_env(env, "LOCAL_RANK=0"));
      QVERIFY(has_env(env, "WORLD_SIZE=2"));
      QVERIFY(has_env(env, "LOCAL_WORLD_SIZE=1"));
      QVERIFY(has_env(env, "MASTER_ADDR=127.0.0.2"));
      QVERIFY(has_env(env, "MASTER_PORT=" + std::to_string(rec.master_port)));
      QVERIFY(has_env(env, "GLOO_SOCKET_IFNAME=lo"));
      QVERIFY(has_env(env, "OMP_NUM_THREADS=1"));
      QVERIFY(has_env(env, "R1_JOB_ID=" + rec.id));
      QVERIFY(has_env(env, "R1_TEST_VALUE=" + profile_.env.at("R1_TEST_VALUE")));
      QVERIFY(has_env(env, "R1_SETUP_RAN=yes it did"));  // the profile's setup lines ran first
      // Detached: a session of its own, led by the rank's wrapper.
      rc::ProcessResult ps = sh("ps -o pgid=,sid= -p " + std::to_string(pid));
      const QStringList ids = q(ps.out).simplified().split(QLatin1Char(' '));
      QCOMPARE(ids.size(), 2);
      QCOMPARE(ids[0].toLong(), rec.rank(r)->pgid);
      QCOMPARE(ids[1].toLong(), rec.rank(r)->pgid);
    }
    QVERIFY(!processes_under(rec.nodes[0].job_dir).isEmpty());
    QElapsedTimer t;
    t.start();
    rc::StopReport sr = launcher_->stop(rec.id, std::chrono::seconds(5));
    const qint64 stop_ms = t.elapsed();
    QVERIFY2(sr.verified, sr.summary.c_str());
    QVERIFY2(q(sr.summary).contains(QStringLiteral("sent SIGTERM to ranks 0,1")),
             sr.summary.c_str());
    // Checked independently in the process table: no rank process is left, and the log
    // followers are gone soon after.
    QVERIFY2(processes_under(rec.nodes[0].job_dir, true).isEmpty(),
             qPrintable(processes_under(rec.nodes[0].job_dir, true).join('\n')));
    QTRY_VERIFY_WITH_TIMEOUT(processes_under(rec.nodes[0].job_dir).isEmpty(), 5000);
    QVERIFY(mon->wait(std::chrono::seconds(30)));
    QCOMPARE(mon->record().state, rc::JobState::Stopped);
    qInfo("stop of 2 running ranks, verified: %lld ms", stop_ms);
  }

  void killedRankFailsTheJobThenResume() {
    rc::JobRecord rec = launcher_->launch(request({"train.steps=100000"}));
    Collector col;
    auto mon = launcher_->attach(rec.id, col.callbacks(), fast());
    QTRY_VERIFY_WITH_TIMEOUT(col.steps(0).size() >= 4, 60000);  // a checkpoint at step 3
    QTRY_VERIFY_WITH_TIMEOUT(mon->record().last_checkpoint_step >= 3, 30000);
    const long victim = rec.rank(1)->pid;
    qint64 killed_at;
    {
      std::lock_guard<std::mutex> lock(col.m);
      killed_at = col.clock.elapsed();
    }
    QVERIFY(::kill(static_cast<pid_t>(victim), SIGKILL) == 0);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard<std::mutex> lock(col.m);
          return col.failed_at_ms >= 0;
        }(),
        10000);
    const qint64 detect_ms = col.failed_at_ms - killed_at;
    qInfo("rank 1 killed: job reported failed after %lld ms", detect_ms);
    QVERIFY2(detect_ms <= 5000, qPrintable(QString::number(detect_ms)));
    const auto failed = col.updates_of(rc::JobUpdate::Kind::State);
    QCOMPARE(failed.front().state, rc::JobState::Failed);
    QCOMPARE(failed.front().rank, 1);
    QVERIFY2(
        q(failed.front().message)
            .contains(QStringLiteral(
                "rank 1 on node 'n2' ended without a finish event (killed by signal 9 (SIGKILL))")),
        failed.front().message.c_str());
    QTRY_VERIFY_WITH_TIMEOUT(!col.updates_of(rc::JobUpdate::Kind::Cleanup).empty(), 30000);
    const std::string cleanup = col.updates_of(rc::JobUpdate::Kind::Cleanup).front().message;
    QVERIFY2(q(cleanup).contains(QStringLiteral("verified: no process of the job is left")),
             cleanup.c_str());
    QVERIFY2(processes_under(rec.nodes[0].job_dir, true).isEmpty(),
             qPrintable(processes_under(rec.nodes[0].job_dir, true).join('\n')));
    QTRY_VERIFY_WITH_TIMEOUT(processes_under(rec.nodes[0].job_dir).isEmpty(), 5000);
    QVERIFY(mon->wait(std::chrono::seconds(30)));
    rec = mon->record();
    mon.reset();
    QCOMPARE(rec.state, rc::JobState::Failed);
    QCOMPARE(rec.failed_rank, 1);
    QVERIFY(rec.last_checkpoint_step >= 3);

    // Resume from the last checkpoint, three more steps.
    const std::int64_t from = rec.last_checkpoint_step;
    rc::JobRecord again =
        launcher_->resume(rec.id, {}, {"train.steps=" + std::to_string(from + 3)});
    QCOMPARE(q(again.resumed_from), q(rec.id));
    QCOMPARE(q(again.overrides.back()), q("checkpoint.resume=" + rec.last_checkpoint));
    Collector col2;
    auto mon2 = launcher_->attach(again.id, col2.callbacks(), fast());
    QVERIFY(mon2->wait(kJobTimeout));
    QCOMPARE(mon2->record().state, rc::JobState::Completed);
    QCOMPARE(col2.steps(0), (std::vector<std::int64_t>{from + 1, from + 2, from + 3}));
    std::optional<std::int64_t> resumed;
    {
      std::lock_guard<std::mutex> lock(col2.m);
      for (const auto& l : col2.lines)
        if (l.decoded.ok())
          if (const auto* s = std::get_if<ev::RunStart>(&l.decoded.event->payload))
            resumed = s->resumed_from_step;
    }
    QVERIFY(resumed.has_value());
    QCOMPARE(*resumed, from);
  }

  void attachAfterDroppingTheLauncherBackfillsExactly() {
    rc::JobRecord rec = launcher_->launch(request({"train.steps=120", "checkpoint.every=0"}));
    Collector a, b;
    std::int64_t offset_at_drop = 0;
    {
      rc::LauncherOptions lo = launcher_->options();
      lo.state_dir = launcher_->store().dir();
      rc::Launcher first(lo);
      auto mon = first.attach(rec.id, a.callbacks(), fast());
      QTRY_VERIFY_WITH_TIMEOUT(a.steps(0).size() >= 5, 60000);
      offset_at_drop = mon->record().rank(0)->offset;
      // A second follower of the same job is refused while this one holds it.
      QVERIFY_THROWS_EXCEPTION(rc::JobError, launcher_->attach(rec.id, b.callbacks(), fast()));
    }  // monitor and launcher gone; the job runs on
    const std::string log0 = rank_dir(rec, 0) + "/events.jsonl";
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(q(log0)).size() > offset_at_drop + 2000, 30000);
    const std::size_t seen_by_a = a.texts(0).size();
    {
      rc::LauncherOptions lo = launcher_->options();
      lo.state_dir = launcher_->store().dir();
      rc::Launcher second(lo);
      auto mon = second.attach(rec.id, b.callbacks(), fast());
      QVERIFY(mon->wait(kJobTimeout));
      QCOMPARE(mon->record().state, rc::JobState::Completed);
    }
    QCOMPARE(a.texts(0).size(), seen_by_a);  // nothing reached the dropped follower after
    for (int r = 0; r < 2; ++r) {
      std::vector<std::string> all = a.texts(r);
      const auto rest = b.texts(r);
      all.insert(all.end(), rest.begin(), rest.end());
      QVERIFY2(all == file_lines(rank_dir(rec, r) + "/events.jsonl"),
               qPrintable(QStringLiteral("rank %1: %2 + %3 lines delivered, %4 in the log")
                              .arg(r)
                              .arg(a.texts(r).size())
                              .arg(rest.size())
                              .arg(file_lines(rank_dir(rec, r) + "/events.jsonl").size())));
    }
    std::vector<std::int64_t> steps = a.steps(0);
    const auto more = b.steps(0);
    QVERIFY(!more.empty() && more.front() == steps.back() + 1);
    steps.insert(steps.end(), more.begin(), more.end());
    QCOMPARE(steps.size(), std::size_t(120));
    for (std::size_t i = 0; i < steps.size(); ++i) QCOMPARE(steps[i], std::int64_t(i + 1));
  }

  // Issue 4, "End to end through SSH: 2 nodes × 2 ranks": four CPU ranks (slots = 2 on each
  // node, node-major), every rank's events arrive, rank 0 alone writes checkpoints.
  void twoNodesTimesTwoRanksEndToEnd() {
    rc::LaunchRequest req = request({"train.steps=4", "checkpoint.every=2"});
    for (auto& n : req.profile.nodes) n.slots = 2;
    rc::JobRecord rec = launcher_->launch(req);
    QCOMPARE(rec.world_size, 4);
    QCOMPARE(rec.ranks.size(), std::size_t(4));
    for (int r = 0; r < 4; ++r) {
      QCOMPARE(rec.rank(r)->node, r / 2);
      QCOMPARE(rec.rank(r)->local_rank, r % 2);
      const QByteArray run = [&] {
        QFile f(q(rank_dir(rec, r) + "/run.sh"));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
      }();
      const QString env = QStringLiteral("export RANK=%1 LOCAL_RANK=%2 LOCAL_WORLD_SIZE=2 ")
                              .arg(r)
                              .arg(r % 2);
      QVERIFY2(QString::fromUtf8(run).contains(env), run.constData());
    }
    Collector col;
    auto mon = launcher_->attach(rec.id, col.callbacks(), fast());
    QVERIFY(mon->wait(kJobTimeout));
    rec = mon->record();
    mon.reset();
    QVERIFY2(rec.state == rc::JobState::Completed, rec.cause.c_str());
    QCOMPARE(col.bad_lines(), 0);
    // Rank 0 reports the run (run_start, steps, checkpoints); every rank reports its own logs
    // and how it finished (Trainer::emit).
    QCOMPARE(col.steps(0), (std::vector<std::int64_t>{1, 2, 3, 4}));
    std::vector<std::int64_t> checkpoint_steps;
    for (int r = 0; r < 4; ++r) {
      const std::string log = rank_dir(rec, r) + "/events.jsonl";
      QVERIFY2(col.texts(r) == file_lines(log), qPrintable(QStringLiteral("rank %1").arg(r)));
      QCOMPARE(q(col.finish(r)), QStringLiteral("completed"));
      int run_starts = 0, checkpoints = 0, joined = 0, finish_step = -1;
      std::lock_guard<std::mutex> lock(col.m);
      for (const auto& l : col.lines) {
        if (l.rank != r) continue;
        QCOMPARE(l.decoded.event->header.rank, r);  // the worker's own rank, not only the log's
        const auto& p = l.decoded.event->payload;
        if (const auto* s = std::get_if<ev::RunStart>(&p)) {
          ++run_starts;
          QCOMPARE(s->world_size, 4);
        } else if (const auto* c = std::get_if<ev::Checkpoint>(&p)) {
          ++checkpoints;
          QVERIFY2(q(c->path).startsWith(q(rank_dir(rec, 0) + "/loop/checkpoints/")),
                   c->path.c_str());
          checkpoint_steps.push_back(c->step);
        } else if (const auto* g = std::get_if<ev::Log>(&p)) {
          if (q(g->text).startsWith(QStringLiteral("data parallel: rank %1 of 4 (gloo, local rank %2,")
                                        .arg(r)
                                        .arg(r % 2)))
            ++joined;
        } else if (const auto* f = std::get_if<ev::Finish>(&p)) {
          finish_step = int(f->step);
        }
      }
      QCOMPARE(run_starts, r == 0 ? 1 : 0);
      QCOMPARE(checkpoints, r == 0 ? 2 : 0);
      QCOMPARE(joined, 1);       // it joined the 4-rank process group
      QCOMPARE(finish_step, 4);  // and trained every step
    }
    QCOMPARE(checkpoint_steps, (std::vector<std::int64_t>{2, 4}));
    QVERIFY(q(rec.last_checkpoint).endsWith(QStringLiteral("/rank0/loop/checkpoints/ckpt-00000004.r1ckpt")));
    QVERIFY(QFileInfo(q(rec.last_checkpoint)).size() > 0);
    // On the nodes' disks: checkpoint files under rank 0's run folder and nowhere else.
    QStringList files;
    for (const auto& n : rec.nodes) {
      QDirIterator it(q(n.job_dir), {QStringLiteral("*.r1ckpt")}, QDir::Files,
                      QDirIterator::Subdirectories);
      while (it.hasNext()) files << it.next();
    }
    files.removeDuplicates();  // both "nodes" are this machine: one job folder
    QVERIFY(!files.isEmpty());
    for (const QString& f : files)
      QVERIFY2(f.startsWith(q(rank_dir(rec, 0) + "/loop/checkpoints/")), qPrintable(f));
    QVERIFY2(processes_under(rec.nodes[0].job_dir, true).isEmpty(),
             qPrintable(processes_under(rec.nodes[0].job_dir, true).join('\n')));
  }

  // Issue 4, "Re-attach after the launcher process is killed; no events lost (count them)":
  // `r1-worker cluster launch --follow --jsonl` is SIGKILLed mid-run, `cluster attach --jsonl`
  // follows the job to its end. Rule (docs/CLUSTER.md: offsets are saved after each chunk of
  // lines is delivered): per rank, the first launcher's lines are a prefix of the node-side log,
  // the second's a suffix, nothing is missing in between, and the lines sent twice are exactly
  // the last ones the killed launcher printed (one unsaved chunk, emitted within 2 s of each
  // other; the docs say about a quarter second, the rest is slack for a loaded machine).
  void cliLauncherKilledThenAttachLosesNothing() {
    const int steps = 150;
    rc::Profile p = profile_;
    p.master_port = free_port(port_);
    const std::string profile_path = dir_ + "/profile-cli.toml";
    rc::save_profile(p, profile_path);
    // The CLI's ssh control sockets in a folder of this test (closed at the end).
    const std::string xdg = dir_ + "/xdg";
    QVERIFY(QDir().mkpath(q(xdg)));
    QVERIFY(QFile::setPermissions(q(xdg), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_RUNTIME_DIR"), q(xdg));
    const QString state = q(launcher_->store().dir());

    QProcess a;
    a.setProcessEnvironment(env);
    a.start(QStringLiteral(R1_WORKER),
            {QStringLiteral("cluster"), QStringLiteral("--state-dir"), state,
             QStringLiteral("launch"), QStringLiteral("--profile"), q(profile_path),
             QStringLiteral("-c"), q(experiment_path_), QStringLiteral("--set"),
             QStringLiteral("train.steps=%1").arg(steps), QStringLiteral("--set"),
             QStringLiteral("checkpoint.every=0"), QStringLiteral("--follow"),
             QStringLiteral("--jsonl")});
    QVERIFY(a.waitForStarted(10000));
    QByteArray out_a, err_a;
    QStringList bad;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 90000 && a.state() == QProcess::Running &&
           steps_in(jsonl_by_rank(out_a, &bad)[0]).size() < 5) {
      a.waitForReadyRead(200);
      out_a += a.readAllStandardOutput();
      err_a += a.readAllStandardError();
    }
    QVERIFY2(a.state() == QProcess::Running, err_a.constData());
    QVERIFY2(steps_in(jsonl_by_rank(out_a, &bad)[0]).size() >= 5, err_a.constData());
    QVERIFY(::kill(static_cast<pid_t>(a.processId()), SIGKILL) == 0);
    QVERIFY(a.waitForFinished(10000));
    QCOMPARE(a.exitStatus(), QProcess::CrashExit);
    out_a += a.readAllStandardOutput();  // what it wrote before dying is still in the pipe
    err_a += a.readAllStandardError();
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("job (\\S+) launched: 2 ranks")).match(QString::fromUtf8(err_a));
    QVERIFY2(m.hasMatch(), err_a.constData());
    const std::string id = m.captured(1).toStdString();
    rc::JobRecord rec = launcher_->store().load(id);
    QCOMPARE(rec.state, rc::JobState::Running);  // the job outlives its launcher
    // What the killed launcher had saved as delivered: the attach starts there.
    const std::int64_t saved_lines[2] = {rec.rank(0)->lines, rec.rank(1)->lines};
    QVERIFY(saved_lines[0] > 0);
    QVERIFY(!processes_under(rec.nodes[0].job_dir, true).isEmpty());
    // Let the job run on unwatched, so the attach has a backlog to fill.
    const std::string log0 = rank_dir(rec, 0) + "/events.jsonl";
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(q(log0)).size() > rec.rank(0)->offset + 2000, 30000);

    QProcess b;
    b.setProcessEnvironment(env);
    b.start(QStringLiteral(R1_WORKER),
            {QStringLiteral("cluster"), QStringLiteral("--state-dir"), state,
             QStringLiteral("attach"), q(id), QStringLiteral("--jsonl")});
    QVERIFY(b.waitForFinished(120000));
    const QByteArray out_b = b.readAllStandardOutput();
    const QByteArray err_b = b.readAllStandardError();
    QCOMPARE(b.exitStatus(), QProcess::NormalExit);
    QVERIFY2(b.exitCode() == 0, err_b.constData());  // 0: the followed job completed
    QVERIFY2(err_b.contains(QByteArray::fromStdString("job " + id + ": completed")),
             err_b.constData());

    const auto by_a = jsonl_by_rank(out_a, &bad);
    const auto by_b = jsonl_by_rank(out_b, &bad);
    QVERIFY2(bad.isEmpty(), qPrintable(bad.join('\n')));
    rec = launcher_->store().load(id);
    QCOMPARE(rec.state, rc::JobState::Completed);
    int resent_total = 0;
    for (int r = 0; r < 2; ++r) {
      const std::vector<std::string> log = file_lines(rank_dir(rec, r) + "/events.jsonl");
      const std::vector<std::string> la = by_a.count(r) ? by_a.at(r) : std::vector<std::string>{};
      const std::vector<std::string> lb = by_b.count(r) ? by_b.at(r) : std::vector<std::string>{};
      const QString what = QStringLiteral("rank %1: %2 lines from the killed launcher, %3 from "
                                          "attach, %4 in the log")
                               .arg(r)
                               .arg(la.size())
                               .arg(lb.size())
                               .arg(log.size());
      QVERIFY2(la.size() <= log.size() && std::equal(la.begin(), la.end(), log.begin()),
               qPrintable(what));
      QVERIFY2(lb.size() <= log.size() && std::equal(lb.begin(), lb.end(), log.end() - lb.size()),
               qPrintable(what));
      const std::size_t attach_from = log.size() - lb.size();  // first line attach sent
      QVERIFY2(attach_from <= la.size(), qPrintable(what + QStringLiteral(": lines lost")));
      QCOMPARE(std::int64_t(attach_from), saved_lines[r]);
      const std::size_t resent = la.size() - attach_from;
      resent_total += int(resent);
      if (resent > 0) {
        const double t0 = ev::decode(log[attach_from]).event->header.time;
        const double t1 = ev::decode(log[la.size() - 1]).event->header.time;
        QVERIFY2(t1 - t0 <= 2.0, qPrintable(what + QStringLiteral(": %1 lines re-sent, over %2 s")
                                                       .arg(resent)
                                                       .arg(t1 - t0)));
      }
      if (r == 0) {  // rank 0 reports the steps (Trainer::emit)
        // The count: every step of the job exactly once, the re-sent window aside.
        std::vector<std::string> once = la;
        once.insert(once.end(), lb.begin() + std::ptrdiff_t(resent), lb.end());
        std::vector<std::int64_t> want(steps);
        for (int i = 0; i < steps; ++i) want[std::size_t(i)] = i + 1;
        QCOMPARE(steps_in(once), want);
        // Killed mid-run: both launchers delivered steps, the attach most of them (backlog).
        QVERIFY2(steps_in(la).size() >= 5 && steps_in(lb).size() > resent, qPrintable(what));
      }
      QVERIFY2(!lb.empty(), qPrintable(what));
      const auto fin = ev::decode(lb.back());  // the finish event came through the attach
      QVERIFY2(fin.ok() && std::holds_alternative<ev::Finish>(fin.event->payload) &&
                   std::get<ev::Finish>(fin.event->payload).status == ev::FinishStatus::Completed,
               lb.back().c_str());
      qInfo("%s, %zu re-sent", qPrintable(what), resent);
    }
    qInfo("lines re-sent after the SIGKILL: %d", resent_total);
    // Nothing of the job is left: ranks, node-side log followers, and (once the masters are
    // closed) no ssh client of either launcher.
    QVERIFY2(processes_under(rec.nodes[0].job_dir, true).isEmpty(),
             qPrintable(processes_under(rec.nodes[0].job_dir, true).join('\n')));
    QTRY_VERIFY_WITH_TIMEOUT(processes_under(rec.nodes[0].job_dir).isEmpty(), 5000);
    rc::LauncherOptions lo = launcher_->options();
    lo.state_dir = launcher_->store().dir();
    lo.control_dir = xdg + "/r1-ssh";
    rc::Launcher(lo).close_connections(p);
    QTRY_VERIFY_WITH_TIMEOUT(processes_under(xdg).isEmpty(), 5000);
  }

  void lostNodeFailsTheJob() {
    // Node n2 gets an sshd of its own, which then goes away with its connections: the node is
    // lost while its rank still runs.
    const std::string dir2 = dir_ + "/sshd2";
    QVERIFY(QDir().mkpath(q(dir2)));
    QVERIFY(QFile::copy(q(dir_ + "/sshd/client_ed25519"), q(dir2 + "/client_ed25519")));
    QVERIFY(QFile::copy(q(dir_ + "/sshd/client_ed25519.pub"), q(dir2 + "/client_ed25519.pub")));
    const int port2 = free_port(port_);
    std::string err = fixture("start " + rc::sh_quote(dir2) + " " + std::to_string(port2) + " " +
                              kUser + " 127.0.0.3");
    QVERIFY2(err.empty(), err.c_str());
    rc::Profile p = profile_;
    p.nodes[1].port = port2;
    launcher_->trust(p, {"n2"});
    rc::LaunchRequest req = request({"train.steps=100000", "checkpoint.every=0"});
    req.profile.nodes[1].port = port2;
    rc::JobRecord rec = launcher_->launch(req);
    Collector col;
    auto mon = launcher_->attach(rec.id, col.callbacks(), fast());
    QTRY_VERIFY_WITH_TIMEOUT(col.steps(0).size() >= 2, 60000);
    qint64 lost_at;
    {
      std::lock_guard<std::mutex> lock(col.m);
      lost_at = col.clock.elapsed();
    }
    err = fixture("stop " + rc::sh_quote(dir2));
    QVERIFY2(err.empty(), err.c_str());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard<std::mutex> lock(col.m);
          return col.failed_at_ms >= 0;
        }(),
        15000);
    const qint64 detect_ms = col.failed_at_ms - lost_at;
    qInfo("node n2 lost: job reported failed after %lld ms", detect_ms);
    QVERIFY2(detect_ms <= 5000, qPrintable(QString::number(detect_ms)));
    const auto st = col.updates_of(rc::JobUpdate::Kind::State);
    QVERIFY2(q(st.front().message).contains(QStringLiteral("node 'n2' unreachable for")) &&
                 q(st.front().message).contains(QStringLiteral("connection refused")),
             st.front().message.c_str());
    QCOMPARE(q(st.front().node), QStringLiteral("n2"));
    QTRY_VERIFY_WITH_TIMEOUT(!col.updates_of(rc::JobUpdate::Kind::Cleanup).empty(), 30000);
    const std::string cleanup = col.updates_of(rc::JobUpdate::Kind::Cleanup).front().message;
    QVERIFY2(q(cleanup).contains(QStringLiteral("NOT verified")) &&
                 q(cleanup).contains(QStringLiteral("node 'n2'")),
             cleanup.c_str());  // n1 was stopped; n2 could not be checked
    QVERIFY(mon->wait(std::chrono::seconds(30)));
    mon.reset();
    // The node comes back: a stop reaches it and verifies.
    err = fixture("start " + rc::sh_quote(dir2) + " " + std::to_string(port2) + " " + kUser +
                  " 127.0.0.3");
    QVERIFY2(err.empty(), err.c_str());
    rc::StopReport sr = launcher_->stop(rec.id, std::chrono::seconds(2));
    QVERIFY2(sr.verified, sr.summary.c_str());
    QVERIFY2(processes_under(rec.nodes[1].job_dir, true).isEmpty(),
             qPrintable(processes_under(rec.nodes[1].job_dir, true).join('\n')));
    launcher_->close_connections(p);
    err = fixture("stop " + rc::sh_quote(dir2));
    QVERIFY2(err.empty(), err.c_str());
  }

  void cliStatusAndStopOfAnEndedJob() {
    const QString state = q(launcher_->store().dir());
    Cli list = worker_cli({QStringLiteral("cluster"), QStringLiteral("status"),
                           QStringLiteral("--state-dir"), state});
    QCOMPARE(list.code, 0);
    QVERIFY2(list.out.count(QLatin1Char('\n')) >= 5, qPrintable(list.out));
    QString last;  // the latest completed job
    for (const QString& line : list.out.trimmed().split(QLatin1Char('\n')))
      if (line.contains(QStringLiteral("  completed  ")))
        last = line.section(QLatin1Char(' '), 0, 0);
    QVERIFY2(!last.isEmpty(), qPrintable(list.out));
    Cli st = worker_cli({QStringLiteral("cluster"), QStringLiteral("status"), last,
                         QStringLiteral("--state-dir"), state});
    QCOMPARE(st.code, 0);
    QVERIFY2(st.out.contains(QStringLiteral(": completed")), qPrintable(st.out + st.err));
    Cli stop = worker_cli({QStringLiteral("cluster"), QStringLiteral("stop"), last,
                           QStringLiteral("--state-dir"), state});
    QCOMPARE(stop.code, 0);
    QVERIFY2(stop.out.contains(QStringLiteral("no rank was running; verified")),
             qPrintable(stop.out));
    Cli none = worker_cli({QStringLiteral("cluster"), QStringLiteral("attach"),
                           QStringLiteral("no-such-job"), QStringLiteral("--state-dir"), state});
    QCOMPARE(none.code, 2);
    QVERIFY2(none.err.contains(QStringLiteral("no job 'no-such-job'")), qPrintable(none.err));
  }

  // Last: it restarts sshd with another host key.
  void changedHostKeyIsRefused() {
    launcher_->close_connections(profile_);  // open masters would keep the old connection
    const std::string err = fixture("rekey " + rc::sh_quote(dir_ + "/sshd"));
    QVERIFY2(err.empty(), err.c_str());
    auto checks = launcher_->check_host_keys(profile_);
    for (const auto& c : checks) {
      QCOMPARE(c.status, rc::HostKeyStatus::Changed);
      QVERIFY2(q(c.message).contains(QStringLiteral("HOST KEY CHANGED")) &&
                   q(c.message).contains(QStringLiteral("ssh-keygen -R")),
               c.message.c_str());
    }
    QVERIFY_THROWS_EXCEPTION(rc::ClusterError, launcher_->trust(profile_, {}));
    auto infos = launcher_->probe(profile_);
    for (const auto& n : infos) {
      QVERIFY(!n.reachable);
      QCOMPARE(n.failure, rc::SshFailureKind::HostKeyChanged);
      QVERIFY2(q(n.error).contains(QStringLiteral("CHANGED")), n.error.c_str());
    }
    Cli c = worker_cli({QStringLiteral("cluster"), QStringLiteral("trust"),
                        QStringLiteral("--profile"), q(profile_path_)});
    QCOMPARE(c.code, 3);
    QVERIFY2(c.err.contains(QStringLiteral("HOST KEY CHANGED")), qPrintable(c.err));
  }
};

QTEST_GUILESS_MAIN(TestClusterSsh)
#include "test_cluster_ssh.moc"
