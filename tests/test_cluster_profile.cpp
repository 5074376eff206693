// The launcher's pieces that need no sshd: cluster profiles (TOML round trip, errors naming
// file:line and key), hostfile import, ~/.ssh/config Host entries, rank assignment, shell
// quoting, the child-process runner, ssh failure messages, probe parsing, the follower's frame
// protocol, the node-side scripts run against a local folder, job records and the fault policy.
#include "engine/cluster/cluster_error.h"
#include "engine/cluster/follower.h"
#include "engine/cluster/hostfile.h"
#include "engine/cluster/job_record.h"
#include "engine/cluster/job_rules.h"
#include "engine/cluster/node_scripts.h"
#include "engine/cluster/probe.h"
#include "engine/cluster/process.h"
#include "engine/cluster/profile.h"
#include "engine/cluster/ranks.h"
#include "engine/cluster/shell.h"
#include "engine/cluster/ssh_config.h"
#include "engine/cluster/ssh_failure.h"
#include "engine/cluster/ssh_session.h"
#include "engine/events/event.h"

#include <QtTest/QtTest>

#include <csignal>
#include <random>

#include <unistd.h>

namespace rc = r1::cluster;

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

// The message of the ProfileError that fn throws ("" when it throws none).
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const rc::ClusterError& e) {
    return e.what();
  }
  return {};
}

rc::Profile two_nodes() {
  rc::Profile p;
  p.name = "lab";
  rc::Node a;
  a.name = "gpu-a";
  a.host = "10.0.0.1";
  a.port = 2222;
  a.user = "alice";
  a.identity_file = "~/.ssh/id_lab";
  a.gpus = 2;
  a.tags = {"h200", "rack 1"};
  rc::Node b;
  b.host = "gpu-b.example.org";
  b.gpus = 2;
  p.nodes = {a, b};
  return p;
}

// A process that exists and is not a zombie (this machine's init may not reap orphans).
bool live_process(long pid) {
  QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
  if (!f.open(QIODevice::ReadOnly)) return false;
  const QByteArray s = f.readAll();
  const int close = s.lastIndexOf(") ");
  return close > 0 && s.size() > close + 2 && s[close + 2] != 'Z' && s[close + 2] != 'X';
}

std::string event_line(const r1::events::Payload& p, int rank) {
  return r1::events::encode(r1::events::make_event(p, "run", rank));
}

}  // namespace

class TestClusterProfile final : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void profileRoundTrip() {
    rc::Profile p = two_nodes();
    p.master_addr = "10.0.0.1";
    p.master_port = 29600;
    p.nccl_socket_ifname = "ib0";
    p.gloo_socket_ifname = "eth0";
    p.remote_workdir = "/scratch/it's \"here\" $(x); y\nz";
    p.worker = "/opt/r1/bin/r1-worker";
    p.setup = "module load cuda/13\nsource /opt/conda/etc/profile.d/conda.sh";
    p.env = {{"NCCL_DEBUG", "WARN"}, {"ODD", "a'b \"c\" \\ $d\n\te"}};
    p.known_hosts = "~/.ssh/known_hosts_lab";
    p.ssh_config = "~/.ssh/config_lab";
    p.ssh_options = {"ProxyJump=bastion", "Compression=yes"};
    p.connect_timeout = 7;
    const std::string text = rc::to_toml(p);
    rc::Profile back = rc::profile_from_string(text, "lab.toml");
    QCOMPARE(q(rc::to_toml(back)), q(text));
    QCOMPARE(q(back.remote_workdir), q(p.remote_workdir));
    QCOMPARE(q(back.env.at("ODD")), q(p.env.at("ODD")));
    QCOMPARE(q(back.setup), q(p.setup));
    QCOMPARE(back.nodes.size(), std::size_t(2));
    QCOMPARE(q(back.nodes[0].identity_file), q("~/.ssh/id_lab"));
    QCOMPARE(back.nodes[0].port, 2222);
    QCOMPARE(back.nodes[1].port, 0);  // unset: ssh's own choice
    QCOMPARE(back.nodes[0].tags.size(), std::size_t(2));
    QCOMPARE(q(back.nodes[0].tags[1]), q("rack 1"));
    QCOMPARE(back.connect_timeout, 7);
    QCOMPARE(back.ssh_options.size(), std::size_t(2));

    const std::string path = dir_.filePath(QStringLiteral("lab.toml")).toStdString();
    rc::save_profile(p, path);
    QCOMPARE(q(rc::to_toml(rc::load_profile(path))), q(text));
  }

  void profileDefaults() {
    rc::Profile p = rc::profile_from_string("[[nodes]]\nhost = \"n1\"\n", "min.toml");
    QCOMPARE(q(p.worker), q("r1-worker"));
    QCOMPARE(q(p.remote_workdir), q("r1-jobs"));
    QCOMPARE(p.master_port, 29500);
    QCOMPARE(p.nodes[0].slots, 1);
    QCOMPARE(p.nodes[0].ranks(), 1);
    QVERIFY(
        QString::fromStdString(p.known_hosts_path()).endsWith(QStringLiteral("/.ssh/known_hosts")));
  }

  void profileErrors_data() {
    QTest::addColumn<QString>("toml");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key") << "name = \"x\"\n[[nodes]]\nhost = \"a\"\ngpu = 2\n"
                                 << "p.toml:4:7: unknown key 'nodes[0].gpu'";
    QTest::newRow("wrong type")
        << "[[nodes]]\nhost = \"a\"\ngpus = \"two\"\n"
        << "p.toml:3:8: key 'nodes[0].gpus': must be an integer, got a string";
    QTest::newRow("range") << "master_port = 70000\n[[nodes]]\nhost = \"a\"\n"
                           << "p.toml:1:15: key 'master_port': value 70000 is out of range";
    QTest::newRow("toml syntax") << "[[nodes]\nhost = \"a\"\n"
                                 << "p.toml:1:";
    QTest::newRow("no nodes") << "name = \"x\"\n"
                              << "key 'nodes': the profile lists no node";
    QTest::newRow("missing host") << "[[nodes]]\ngpus = 1\n"
                                  << "p.toml:1:1: key 'nodes[0].host': is required";
    QTest::newRow("option host")
        << "[[nodes]]\nhost = \"-oProxyCommand=touch x\"\n"
        << "p.toml:1: key 'nodes[0].host': '-oProxyCommand=touch x' starts with '-'";
    QTest::newRow("shell host") << "[[nodes]]\nhost = \"a;reboot\"\n"
                                << "contains ';'";
    QTest::newRow("subst host") << "[[nodes]]\nhost = \"$(id)\"\n"
                                << "contains '$'";
    QTest::newRow("newline host") << "[[nodes]]\nhost = \"a\\nb\"\n"
                                  << "contains a control character";
    QTest::newRow("user in host") << "[[nodes]]\nhost = \"bob@a\"\n"
                                  << "holds a user";
    QTest::newRow("quote user") << "[[nodes]]\nhost = \"a\"\nuser = \"x'y\"\n"
                                << "key 'nodes[0].user': 'x'y' contains '''";
    QTest::newRow("space user") << "[[nodes]]\nhost = \"a\"\nuser = \"x y\"\n"
                                << "contains a space";
    QTest::newRow("duplicate")
        << "[[nodes]]\nhost = \"a\"\n[[nodes]]\nhost = \"a\"\n"
        << "p.toml:3: key 'nodes[1]': the same host, port and user as nodes[0]";
    QTest::newRow("reserved env") << "[env]\nRANK = \"3\"\n[[nodes]]\nhost = \"a\"\n"
                                  << "key 'env.RANK': is set by the launcher";
    QTest::newRow("bad env name") << "[env]\n\"A-B\" = \"3\"\n[[nodes]]\nhost = \"a\"\n"
                                  << "key 'env.A-B': is not a valid environment variable name";
    QTest::newRow("no strict checking")
        << "ssh_options = [\"StrictHostKeyChecking=no\"]\n[[nodes]]\nhost = \"a\"\n"
        << "'StrictHostKeyChecking' is managed by the launcher";
    QTest::newRow("option form") << "ssh_options = [\"-v\"]\n[[nodes]]\nhost = \"a\"\n"
                                 << "is not of the form Key=Value";
    QTest::newRow("worker option") << "worker = \"-x\"\n[[nodes]]\nhost = \"a\"\n"
                                   << "key 'worker'";
  }
  void profileErrors() {
    QFETCH(QString, toml);
    QFETCH(QString, expected);
    const std::string err =
        error_of([&] { rc::profile_from_string(toml.toStdString(), "p.toml"); });
    QVERIFY2(q(err).contains(expected), err.c_str());
  }

  void hostfileImport() {
    const std::string text =
        "# DeepSpeed hostfile\n"
        "worker-1 slots=8\n"
        "\n"
        "   worker-2   slots=4   # trailing comment\n"
        "bob@worker-3 slots=2\n";
    auto nodes = rc::parse_hostfile(text, "hostfile");
    QCOMPARE(nodes.size(), std::size_t(3));
    QCOMPARE(q(nodes[0].host), q("worker-1"));
    QCOMPARE(nodes[0].gpus, 8);
    QCOMPARE(nodes[1].gpus, 4);
    QCOMPARE(nodes[1].line, 4);
    QCOMPARE(q(nodes[2].user), q("bob"));
    QCOMPARE(q(nodes[2].host), q("worker-3"));
    auto cpu = rc::parse_hostfile(text, "hostfile", rc::HostfileSlots::Cpu);
    QCOMPARE(cpu[0].gpus, 0);
    QCOMPARE(cpu[0].slots, 8);
    // An imported profile validates and plans 14 ranks.
    rc::Profile p;
    p.nodes = nodes;
    rc::validate(p, "hostfile");
    QCOMPARE(rc::plan_ranks(p).world_size, 14);
  }

  void hostfileErrors_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no slots") << "a slots=1\nb\n"
                              << "hf:2: expected 'host slots=N', got 'b'";
    QTest::newRow("zero") << "a slots=0\n"
                          << "hf:1: slots must be an integer in [1, 4096], got '0'";
    QTest::newRow("text") << "\n\na slots=many\n"
                          << "hf:3: slots must be an integer";
    QTest::newRow("extra word") << "a slots=2 gpus=3\n"
                                << "hf:1: expected 'host slots=N'";
    QTest::newRow("duplicate") << "a slots=1\n# x\na slots=2\n"
                               << "hf:3: host 'a' is already listed on line 1";
    QTest::newRow("shell") << "a;b slots=1\n"
                           << "hf:1: 'a;b' is not a host name";
    QTest::newRow("empty") << "# nothing\n\n"
                           << "hf: the hostfile lists no host";
  }
  void hostfileErrors() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const std::string err = error_of([&] { rc::parse_hostfile(text.toStdString(), "hf"); });
    QVERIFY2(q(err).contains(expected), err.c_str());
  }

  void sshConfigHosts() {
    const QString inc = dir_.filePath(QStringLiteral("inc.conf"));
    {
      QFile f(inc);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("Host included\n  HostName 10.1.1.1\n");
    }
    const std::string text =
        "# comment\n"
        "Host *\n"
        "  ServerAliveInterval 30\n"
        "Host gpu1 gpu2 *.lab !bad\n"
        "  HostName 10.0.0.5\n"
        "  User alice\n"
        "  Port 2200\n"
        "  IdentityFile ~/.ssh/id_lab\n"
        "  User ignored-second-value\n"
        "Host=bastion\n"
        "  Hostname=jump.example.org\n"
        "Match host foo\n"
        "  User matched\n"
        "Host gpu1\n"
        "  Port 9999\n"
        "Include " +
        inc.toStdString() + "\n";
    auto e = rc::ssh_config_hosts_from_text(text, "config");
    QCOMPARE(e.size(), std::size_t(4));
    QCOMPARE(q(e[0].alias), q("gpu1"));
    QCOMPARE(q(e[0].hostname), q("10.0.0.5"));
    QCOMPARE(q(e[0].user), q("alice"));
    QCOMPARE(e[0].port, 2200);  // the first value obtained wins, as in ssh
    QCOMPARE(q(e[0].identity_file), q("~/.ssh/id_lab"));
    QCOMPARE(e[0].line, 4);
    QCOMPARE(q(e[1].alias), q("gpu2"));
    QCOMPARE(q(e[2].alias), q("bastion"));
    QCOMPARE(q(e[2].hostname), q("jump.example.org"));
    QCOMPARE(q(e[3].alias), q("included"));
    QCOMPARE(q(e[3].hostname), q("10.1.1.1"));
    rc::Node n = rc::node_from_ssh_host(e[0]);
    QCOMPARE(q(n.host), q("gpu1"));
    QCOMPARE(n.port, 0);  // ssh applies the entry's Port itself
    QVERIFY(rc::ssh_config_hosts(dir_.filePath(QStringLiteral("missing")).toStdString()).empty());
    const std::string err =
        error_of([] { rc::ssh_config_hosts_from_text("Host a\n  Port seventy\n", "cfg"); });
    QVERIFY2(q(err).contains(QStringLiteral("cfg:2: Port 'seventy'")), err.c_str());
  }

  void rankAssignment() {
    rc::Profile p = two_nodes();
    p.nodes[1].gpus = 3;
    rc::RankPlan plan = rc::plan_ranks(p);
    QCOMPARE(plan.world_size, 5);
    QVERIFY(plan.gpu);
    QCOMPARE(plan.local_world_size, (std::vector<int>{2, 3}));
    const int expect[5][3] = {{0, 0, 0}, {1, 0, 1}, {2, 1, 0}, {3, 1, 1}, {4, 1, 2}};
    for (int i = 0; i < 5; ++i) {
      QCOMPARE(plan.ranks[i].rank, expect[i][0]);
      QCOMPARE(plan.ranks[i].node, expect[i][1]);
      QCOMPARE(plan.ranks[i].local_rank, expect[i][2]);
    }
    QCOMPARE(plan.on_node(1).size(), std::size_t(3));

    p.nodes[0].gpus = 0;
    p.nodes[0].slots = 4;
    const std::string err = error_of([&] { rc::plan_ranks(p); });
    QVERIFY2(
        q(err).contains(QStringLiteral("one job runs either on GPUs (NCCL) or on CPUs (Gloo)")),
        err.c_str());
    p.nodes[1].gpus = 0;
    plan = rc::plan_ranks(p);
    QVERIFY(!plan.gpu);
    QCOMPARE(plan.world_size, 5);  // 4 CPU slots + 1
  }

  void shellQuotingSurvivesHostileText_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("quotes") << QStringLiteral("it's \"quoted\"");
    QTest::newRow("substitution") << QStringLiteral("$(touch pwned) `touch pwned` ${HOME}");
    QTest::newRow("separators") << QStringLiteral("a; b && c | d > e");
    QTest::newRow("newlines") << QStringLiteral("line1\nline2\n'\n");
    QTest::newRow("backslashes") << QStringLiteral("\\'\\\\ \\n");
    QTest::newRow("empty") << QString();
  }
  void shellQuotingSurvivesHostileText() {
    QFETCH(QString, text);
    const std::string s = text.toStdString();
    rc::ProcessSpec spec;
    spec.argv = {
        "/bin/sh", "-c",
        "cd " + rc::sh_quote(dir_.path().toStdString()) + " && printf '%s' " + rc::sh_quote(s)};
    rc::ProcessResult r = rc::run_process(spec);
    QVERIFY2(r.ok(), r.describe().c_str());
    QCOMPARE(q(r.out), q(s));
    QVERIFY(!QFile::exists(dir_.filePath(QStringLiteral("pwned"))));
    const std::string d = rc::heredoc_delimiter("R1_EOF_1\n" + s);
    QVERIFY(s.find("\n" + d + "\n") == std::string::npos);
  }

  void processRunner() {
    rc::ProcessSpec cat;
    cat.argv = {"cat"};
    std::string big(3 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); i += 97) big[i] = '\n';
    cat.input = big;
    rc::ProcessResult r = rc::run_process(cat);
    QVERIFY2(r.ok(), r.describe().c_str());
    QCOMPARE(r.out.size(), big.size());
    QVERIFY(r.out == big);

    rc::ProcessSpec fail;
    fail.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
    r = rc::run_process(fail);
    QCOMPARE(r.exit_code, 3);
    QCOMPARE(q(r.out), q("out\n"));
    QCOMPARE(q(r.err), q("err\n"));
    QCOMPARE(q(r.describe()), q("exit code 3"));

    // A deadline ends the child and what it started (its process group), promptly.
    rc::ProcessSpec slow;
    slow.argv = {"sh", "-c", "sleep 30 & sleep 30"};
    slow.timeout = std::chrono::milliseconds(300);
    QElapsedTimer t;
    t.start();
    r = rc::run_process(slow);
    QVERIFY(r.timed_out);
    QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
    QVERIFY(q(r.describe()).startsWith(QStringLiteral("timed out after")));

    rc::ProcessSpec missing;
    missing.argv = {"r1-no-such-program"};
    r = rc::run_process(missing);
    QVERIFY(!r.started);
    QVERIFY2(q(r.start_error).contains(QStringLiteral("not found on PATH")), r.start_error.c_str());

    // A child that closes stdin early does not kill us with SIGPIPE.
    rc::ProcessSpec early;
    early.argv = {"true"};
    early.input = big;
    r = rc::run_process(early);
    QVERIFY(r.ok());

    // Streaming: chunks arrive before the end; terminate() ends it.
    std::mutex m;
    std::string got;
    rc::ProcessStream s({"sh", "-c", "echo first; sleep 30"}, {}, [&](std::string_view c) {
      std::lock_guard<std::mutex> lock(m);
      got.append(c);
    });
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard<std::mutex> lock(m);
          return got == "first\n";
        }(),
        5000);
    QVERIFY(s.running());
    t.restart();
    s.terminate();
    QVERIFY(!s.running());
    QVERIFY(t.elapsed() < 3000);
    QCOMPARE(s.result().signal, SIGTERM);
  }

  void sshFailureMessages_data() {
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("stderrText");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key")
        << 255
        << "No ED25519 host key is known for [127.0.0.2]:22022 and you have requested strict "
           "checking.\nHost key verification failed.\n"
        << "host-key-unknown"
        << "host key not in known_hosts";
    QTest::newRow("changed key") << 255
                                 << "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS "
                                    "CHANGED!     @\nHost key verification failed.\n"
                                 << "host-key-changed"
                                 << "CHANGED";
    QTest::newRow("auth")
        << 255 << "r1node@127.0.0.2: Permission denied (publickey).\n"
        << "auth-failed"
        << "authentication failed (r1node@127.0.0.2: Permission denied (publickey).)";
    QTest::newRow("refused") << 255
                             << "ssh: connect to host 127.0.0.4 port 22022: Connection refused\n"
                             << "connection-refused"
                             << "connection refused";
    QTest::newRow("timeout") << 255
                             << "ssh: connect to host 10.9.9.9 port 22: Connection timed out\n"
                             << "connect-timeout"
                             << "timed out";
    QTest::newRow("resolve")
        << 255 << "ssh: Could not resolve hostname nowhere: Name or service not known\n"
        << "host-unresolved"
        << "does not resolve";
    QTest::newRow("lost") << 255 << "Timeout, server 127.0.0.2 not responding.\n"
                          << "connection-lost"
                          << "connection lost";
    QTest::newRow("remote exit") << 3 << ""
                                 << "ok"
                                 << "";
  }
  void sshFailureMessages() {
    QFETCH(int, exitCode);
    QFETCH(QString, stderrText);
    QFETCH(QString, kind);
    QFETCH(QString, expected);
    rc::ProcessResult r;
    r.started = true;
    r.exit_code = exitCode;
    r.err = stderrText.toStdString();
    rc::SshFailure f = rc::classify_ssh(r, "node 'n1' (r1node@127.0.0.2:22022)");
    QCOMPARE(q(rc::to_string(f.kind)), kind);
    if (!expected.isEmpty()) {
      QVERIFY2(q(f.message).startsWith(QStringLiteral("node 'n1' (r1node@127.0.0.2:22022): ")),
               f.message.c_str());
      QVERIFY2(q(f.message).contains(expected), f.message.c_str());
    }
  }

  void sshArgvIsStrictAndMultiplexed() {
    rc::Profile p = two_nodes();
    p.known_hosts = dir_.filePath(QStringLiteral("kh with space")).toStdString();
    p.ssh_options = {"ProxyJump=bastion"};
    rc::SshSession s(p, p.nodes[0], dir_.path().toStdString());
    const auto argv = s.ssh_argv();
    const QStringList a = [&] {
      QStringList l;
      for (const auto& x : argv) l << q(x);
      return l;
    }();
    for (const char* must : {"BatchMode=yes", "StrictHostKeyChecking=yes", "ControlMaster=auto",
                             "ControlPersist=60", "ServerAliveInterval=5", "ServerAliveCountMax=2",
                             "ConnectTimeout=10", "IdentitiesOnly=yes", "ProxyJump=bastion"})
      QVERIFY2(a.contains(QString::fromLatin1(must)), must);
    QVERIFY(a.contains(QStringLiteral("UserKnownHostsFile=\"") +
                       dir_.filePath(QStringLiteral("kh with space")) + QStringLiteral("\"")));
    QVERIFY(a.contains(QStringLiteral("ControlPath=\"") + dir_.path() + QStringLiteral("/%C\"")));
    QCOMPARE(a.filter(QStringLiteral("StrictHostKeyChecking")).size(), 1);
    QCOMPARE(a.at(a.size() - 2), QStringLiteral("--"));
    QCOMPARE(a.last(), QStringLiteral("10.0.0.1"));
    QVERIFY(a.contains(QStringLiteral("-p")) && a.contains(QStringLiteral("2222")));
    QVERIFY(a.contains(QStringLiteral("-l")) && a.contains(QStringLiteral("alice")));
    QCOMPARE(q(s.who()), q("node 'gpu-a' (alice@10.0.0.1:2222)"));
  }

  void probeOutputParsing() {
    const std::string out =
        "os Ubuntu 24.04.1 LTS\n"
        "kernel Linux 6.8.0-45-generic\n"
        "arch x86_64\n"
        "cpus 96\n"
        "mem_total_kb 2113873920\n"
        "mem_available_kb 2000000000\n"
        "gpu NVIDIA H200, 143771, 570.86.15\n"
        "gpu NVIDIA H200, 143771, 570.86.15\n"
        "cuda_driver 13.0\n"
        "nccl_lib /usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5\n"
        "worker_path /opt/r1/bin/r1-worker\n"
        "wv r1-worker 0.1.0\n"
        "wv libtorch 2.11.0\n"
        "wv cuda available\n"
        "worker_rc 0\n";
    rc::NodeInfo n = rc::parse_probe_output(out);
    QCOMPARE(q(n.os), q("Ubuntu 24.04.1 LTS"));
    QCOMPARE(n.cpus, 96);
    QCOMPARE(n.mem_total_kb, std::int64_t(2113873920));
    QCOMPARE(n.gpus.size(), std::size_t(2));
    QCOMPARE(q(n.gpus[0].name), q("NVIDIA H200"));
    QCOMPARE(n.gpus[0].memory_mib, std::int64_t(143771));
    QCOMPARE(q(n.gpus[0].driver), q("570.86.15"));
    QCOMPARE(q(n.nccl_version), q("2.21.5"));
    QCOMPARE(q(n.cuda_driver_version), q("13.0"));
    QVERIFY(n.worker_found);
    QCOMPARE(q(n.worker_version), q("0.1.0"));
    QCOMPARE(q(n.libtorch_version), q("2.11.0"));
    QCOMPARE(n.slots(), 2);

    rc::NodeInfo cpu = rc::parse_probe_output(
        "cpus 8\nworker_path /x/r1-worker\nwv The following argument was not expected: --versions\n"
        "worker_rc 109\n");
    QCOMPARE(cpu.slots(), 8);
    QVERIFY(cpu.worker_found);
    QVERIFY(cpu.worker_version.empty());
    QVERIFY2(q(cpu.worker_error).contains(QStringLiteral("--versions` failed (exit 109)")),
             cpu.worker_error.c_str());
    QVERIFY(!rc::parse_probe_output("worker_missing\n").worker_found);
  }

  void frameParserDeliversLinesOnce() {
    // Two ranks' logs, cut into frames of odd sizes, fed in random chunks.
    std::vector<std::string> lines0, lines1;
    for (int i = 1; i <= 40; ++i) {
      r1::events::Step s;
      s.step = i;
      s.loss = 1.0 / i;
      lines0.push_back(event_line(s, 0));
      r1::events::Log l;
      l.text = "line " + std::to_string(i) + " 注意力";
      lines1.push_back(event_line(l, 1));
    }
    lines1[7] = "{not json";
    std::string log0, log1;
    for (auto& l : lines0) log0 += l + "\n";
    for (auto& l : lines1) log1 += l + "\r\n";
    std::string stream = "H\n";
    std::size_t o0 = 0, o1 = 0;
    std::mt19937 rng(7);
    while (o0 < log0.size() || o1 < log1.size()) {
      for (int r = 0; r < 2; ++r) {
        std::string& log = r ? log1 : log0;
        std::size_t& o = r ? o1 : o0;
        if (o >= log.size()) continue;
        std::size_t n = std::min<std::size_t>(log.size() - o, 1 + rng() % 300);
        stream +=
            "@" + std::to_string(r) + " " + std::to_string(n) + "\n" + log.substr(o, n) + "\n";
        o += n;
      }
      stream += "H\n";
    }
    stream += "E\n";

    std::vector<rc::RankLine> got;
    bool ended = false;
    int beats = 0;
    rc::FrameParser::Sink sink;
    sink.line = [&](rc::RankLine&& l) { got.push_back(std::move(l)); };
    sink.end = [&] { ended = true; };
    sink.heartbeat = [&] { ++beats; };
    rc::FrameParser p({{0, {}}, {1, {}}}, sink);
    for (std::size_t i = 0; i < stream.size();) {
      std::size_t n = std::min<std::size_t>(stream.size() - i, 1 + rng() % 50);
      QVERIFY2(p.feed(std::string_view(stream).substr(i, n)), p.error().c_str());
      i += n;
    }
    QVERIFY(ended);
    QVERIFY(beats > 2);
    QCOMPARE(got.size(), std::size_t(80));
    std::vector<std::string> back0, back1;
    for (const auto& l : got) (l.rank ? back1 : back0).push_back(l.text);
    QVERIFY(back0 == lines0);
    QVERIFY(back1 == lines1);  // "\r\n" endings are stripped
    QCOMPARE(p.cursors().at(0).offset, std::int64_t(log0.size()));
    QCOMPARE(p.cursors().at(1).offset, std::int64_t(log1.size()));
    QCOMPARE(p.cursors().at(1).lines, std::int64_t(40));
    int bad = 0;
    for (const auto& l : got) {
      if (l.decoded.ok()) continue;
      ++bad;
      QCOMPARE(l.rank, 1);
      QCOMPARE(l.line, std::int64_t(8));
      QVERIFY2(q(l.error()).startsWith(QStringLiteral("rank 1, line 8 of events.jsonl: ")),
               l.error().c_str());
    }
    QCOMPARE(bad, 1);

    // Resuming from a cursor continues the line numbering.
    std::vector<rc::RankLine> more;
    rc::FrameParser::Sink s2;
    s2.line = [&](rc::RankLine&& l) { more.push_back(std::move(l)); };
    rc::FrameParser p2({{0, {1000, 40}}}, s2);
    QVERIFY(p2.feed("@0 6\nabc\nde\n"));
    QCOMPARE(more.size(), std::size_t(1));
    QCOMPARE(more[0].line, std::int64_t(41));
    QCOMPARE(more[0].end_offset, std::int64_t(1004));
    QCOMPARE(p2.cursors().at(0).offset, std::int64_t(1004));  // "de" is not a line yet
  }

  void frameParserRejectsBrokenStreams() {
    rc::FrameParser::Sink sink;
    rc::FrameParser a({{0, {}}}, sink);
    QVERIFY(!a.feed("@0 3\nabcX"));
    QVERIFY2(q(a.error()).contains(QStringLiteral("was not followed by a newline")),
             a.error().c_str());
    rc::FrameParser b({{0, {}}}, sink);
    QVERIFY(!b.feed("@5 3\nabc\n"));
    QVERIFY2(q(b.error()).contains(QStringLiteral("rank not followed here")), b.error().c_str());
    rc::FrameParser c({{0, {}}}, sink);
    QVERIFY(!c.feed("Welcome to the node!\n"));
    QVERIFY2(q(c.error()).contains(QStringLiteral("unexpected line")), c.error().c_str());
  }

  // The node-side scripts against a local folder (sh -s, as on a node), without ssh.
  void nodeScriptsLocally() {
    const std::string jd = dir_.filePath(QStringLiteral("job ' $(x)")).toStdString();
    QVERIFY(QDir().mkpath(q(jd + "/rank0")));
    QVERIFY(QDir().mkpath(q(jd + "/rank1")));
    auto sh = [](const std::string& script) {
      rc::ProcessSpec s;
      s.argv = {"sh", "-s"};
      s.input = script;
      s.timeout = std::chrono::seconds(20);
      return rc::run_process(s);
    };
    std::string log0;
    for (int i = 1; i <= 3; ++i) {
      r1::events::Step st;
      st.step = i;
      log0 += event_line(st, 0) + "\n";
    }
    r1::events::Finish fin;
    log0 += event_line(fin, 0) + "\n";
    {
      QFile f(q(jd + "/rank0/events.jsonl"));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(log0.data(), qint64(log0.size()));
      QFile e(q(jd + "/rank1/events.jsonl"));
      QVERIFY(e.open(QIODevice::WriteOnly));
    }
    // rank 1 "runs": a process working in its folder, its pid as the rank's pgid and pid.
    rc::ProcessSpec bg;
    bg.argv = {"sh", "-c",
               "cd " + rc::sh_quote(jd + "/rank1") +
                   " && (setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $! > pid; "
                   "cp pid pgid)"};
    QVERIFY(rc::run_process(bg).ok());
    QFile pidf(q(jd + "/rank1/pid"));
    QVERIFY(pidf.open(QIODevice::ReadOnly));
    const long pid = pidf.readAll().trimmed().toLong();
    QVERIFY(pid > 1);

    rc::ProcessResult r = sh(rc::status_script(jd, {0, 1}));
    QVERIFY2(r.ok(), r.err.c_str());
    rc::StatusOutput st = rc::parse_status_output(r.out);
    QVERIFY(!st.ranks.at(0).alive);
    QCOMPARE(q(st.ranks.at(0).finish), q("completed"));
    QVERIFY(st.ranks.at(1).alive);

    // A pid that is alive but not working in the rank folder is not the rank.
    {
      QFile f(q(jd + "/rank0/pid"));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray::number(qint64(::getpid())));
    }
    st = rc::parse_status_output(sh(rc::status_script(jd, {0})).out);
    QVERIFY(!st.ranks.at(0).alive);

    // Following from offset 0 sends everything of rank 0; rank 1 is alive, so it keeps going:
    // stop it after the first frames.
    std::vector<rc::RankLine> got;
    rc::FrameParser::Sink sink;
    sink.line = [&](rc::RankLine&& l) { got.push_back(std::move(l)); };
    rc::FrameParser parser({{0, {}}, {1, {}}}, sink);
    std::mutex m;
    rc::ProcessStream follow({"sh", "-s"}, rc::follow_script(jd, {{0, 0}, {1, 0}}),
                             [&](std::string_view c) {
                               std::lock_guard<std::mutex> lock(m);
                               parser.feed(c);
                             });
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard<std::mutex> lock(m);
          return got.size() == 4;
        }(),
        5000);
    QVERIFY(follow.running());
    // The stop script ends rank 1 (SIGTERM to its group) and finds nothing left.
    r = sh(rc::stop_script(jd, {0, 1}, 5));
    QVERIFY2(r.ok(), r.err.c_str());
    rc::StopOutput so = rc::parse_stop_output(r.out);
    QCOMPARE(so.termed, std::vector<int>{1});
    QVERIFY(so.killed.empty());
    QVERIFY(so.alive_after.empty());
    QVERIFY2(so.leftovers.empty(), r.out.c_str());
    QVERIFY(QFile::exists(q(jd + "/stop_requested")));
    QVERIFY(follow.wait_for(std::chrono::seconds(5)));  // "E": every rank ended
    QVERIFY(parser.ended());
    QCOMPARE(parser.cursors().at(0).offset, std::int64_t(log0.size()));
    QVERIFY(!live_process(pid));
  }

  void jobRecordRoundTrip() {
    rc::JobRecord r;
    r.id = "lab-20261129-101500-abcd";
    r.profile_toml = rc::to_toml(two_nodes());
    r.experiment_toml = "[train]\nsteps = 5\n";
    r.overrides = {"train.steps=7"};
    r.state = rc::JobState::Failed;
    r.cause = "rank 1 on node 'b' ended without a finish event";
    r.failed_rank = 1;
    r.nodes = {{"a", "/home/x/r1-jobs/j"}, {"b", "/home/y/r1-jobs/j"}};
    rc::RankRecord k;
    k.rank = 1;
    k.node = 1;
    k.pgid = 42;
    k.offset = 123456789012LL;
    k.lines = 99;
    k.finish = "stopped";
    r.ranks = {k};
    r.last_checkpoint = "/x/ckpt-00000010.r1ckpt";
    r.last_checkpoint_step = 10;
    rc::JobRecord b = rc::job_from_json(rc::to_json(r), "j.json");
    QCOMPARE(q(rc::to_json(b)), q(rc::to_json(r)));
    QCOMPARE(b.ranks[0].offset, std::int64_t(123456789012LL));
    QCOMPARE(q(rc::to_string(b.state)), q("failed"));
    // Drained or not: a failed job whose last lines no consumer acknowledged is followed again.
    QVERIFY(!b.drained && rc::needs_draining(b));
    r.drained = true;
    r.ranks[0].end = r.ranks[0].offset;
    b = rc::job_from_json(rc::to_json(r), "j.json");
    QVERIFY(b.drained && !rc::needs_draining(b));
    QCOMPARE(b.ranks[0].end, std::int64_t(123456789012LL));
    // A record from before the field: drained (nothing known to be left), end unknown.
    std::string old = rc::to_json(r);
    old.replace(old.find("\"drained\": true"), 15, "\"unrelated\": 1");
    old.replace(old.find("\"end\": 123456789012"), 19, "\"x\": 0");
    b = rc::job_from_json(old, "old.json");
    QVERIFY(b.drained && !rc::needs_draining(b));
    QCOMPARE(b.ranks[0].end, std::int64_t(-1));
    const std::string err =
        error_of([] { rc::job_from_json("{\"id\":\"x\",\"state\":\"odd\"}", "j.json"); });
    QVERIFY2(q(err).contains(QStringLiteral("j.json: field 'state': unknown state 'odd'")),
             err.c_str());
  }

  void faultPolicy() {
    rc::JobRecord r;
    r.state = rc::JobState::Running;
    r.nodes = {{"a", "/j"}, {"b", "/j"}};
    for (int i = 0; i < 2; ++i) {
      rc::RankRecord k;
      k.rank = i;
      k.node = i;
      k.alive = true;
      r.ranks.push_back(k);
    }
    auto poll = [](bool alive, int exit_code, const std::string& finish, bool reachable = true) {
      rc::NodePoll p;
      p.reachable = reachable;
      rc::RankProbe rp;
      rp.alive = alive;
      rp.exit_code = exit_code;
      rp.finish = finish;
      p.status.ranks[0] = rp;
      return p;
    };
    auto with_rank = [](rc::NodePoll p, int rank) {
      auto rp = p.status.ranks.at(0);
      p.status.ranks.clear();
      rp.rank = rank;
      p.status.ranks[rank] = rp;
      return p;
    };
    // Both alive: running.
    rc::JobRecord j = r;
    rc::Verdict v =
        rc::judge(j, {with_rank(poll(true, -1, ""), 0), with_rank(poll(true, -1, ""), 1)}, 4);
    QCOMPARE(v.state, rc::JobState::Running);
    // Rank 1 killed -9; rank 0 then finished "failed" (its peer vanished): rank 1 is the cause.
    j = r;
    j.ranks[0].last_error = "Connection closed by peer";
    v = rc::judge(j, {with_rank(poll(false, 1, "failed"), 0), with_rank(poll(false, 137, ""), 1)},
                  4);
    QCOMPARE(v.state, rc::JobState::Failed);
    QCOMPARE(v.rank, 1);
    QVERIFY(v.stop_others);
    QVERIFY(!v.collateral_only);
    QVERIFY2(q(v.cause).contains(QStringLiteral("rank 1 on node 'b' ended without a finish event "
                                                "(killed by signal 9 (SIGKILL))")),
             v.cause.c_str());
    // A node out of reach for longer than allowed.
    j = r;
    rc::NodePoll lost = with_rank(poll(true, -1, "", false), 1);
    lost.error = "node 'b': connection refused";
    lost.unreachable_for_s = 4.5;
    v = rc::judge(j, {with_rank(poll(true, -1, ""), 0), lost}, 4);
    QCOMPARE(v.state, rc::JobState::Failed);
    QVERIFY2(q(v.cause).contains(QStringLiteral("node 'b' unreachable for 4.5 s")),
             v.cause.c_str());
    // Only a rank that finished "failed" while its peer still runs: named, but flagged as
    // possibly collateral (the monitor looks once more before reporting it).
    j = r;
    j.ranks[0].last_error = "gloo: connection closed by peer";
    v = rc::judge(j, {with_rank(poll(false, 1, "failed"), 0), with_rank(poll(true, -1, ""), 1)}, 4);
    QCOMPARE(v.state, rc::JobState::Failed);
    QVERIFY(v.collateral_only);
    QVERIFY2(q(v.cause).contains(
                 QStringLiteral("rank 0 on node 'a' failed: gloo: connection closed by peer")),
             v.cause.c_str());
    lost.unreachable_for_s = 2;
    j = r;
    QCOMPARE(rc::judge(j, {with_rank(poll(true, -1, ""), 0), lost}, 4).state,
             rc::JobState::Running);
    // All finished.
    j = r;
    v = rc::judge(
        j, {with_rank(poll(false, 0, "completed"), 0), with_rank(poll(false, 0, "completed"), 1)},
        4);
    QCOMPARE(v.state, rc::JobState::Completed);
    // Killed after a stop request: stopped, not failed.
    j = r;
    rc::NodePoll s0 = with_rank(poll(false, -1, ""), 0), s1 = with_rank(poll(false, 137, ""), 1);
    s0.status.stop_requested = s1.status.stop_requested = true;
    QCOMPARE(rc::judge(j, {s0, s1}, 4).state, rc::JobState::Stopped);
    QCOMPARE(q(rc::describe_exit(130)), q("killed by signal 2 (SIGINT)"));
    QCOMPARE(q(rc::describe_exit(2)), q("exit code 2"));
  }
};

QTEST_GUILESS_MAIN(TestClusterProfile)
#include "test_cluster_profile.moc"
