#pragma once
// Loopback "nodes" for the workbench tests that talk to a real sshd: tests/fixtures/
// sshd_fixture.sh started in a folder of its own (generated host and client keys, the user
// r1node, one free port) on some of 127.0.0.2, 127.0.0.3 …, plus a work folder the node user
// owns. Needs root (the fixture creates the user) and Debian's openssh-server.
#include "engine/cluster/profile.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace r1::test {

inline const char* const kNodeUser = "r1node";

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// `cmd` through /bin/sh; stdout and stderr together, trimmed.
inline QString run(const QString& cmd, int* rc = nullptr) {
  QProcess p;
  p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), cmd});
  p.waitForFinished(60000);
  if (rc) *rc = p.exitCode();
  return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError()).trimmed();
}

class LoopbackNodes {
 public:
  explicit LoopbackNodes(QString fixture) : fixture_(std::move(fixture)) {}
  ~LoopbackNodes() { stop(); }
  LoopbackNodes(const LoopbackNodes&) = delete;
  LoopbackNodes& operator=(const LoopbackNodes&) = delete;

  // Why this machine cannot run the fixture (a reason to skip), or empty.
  static QString unavailable() {
    if (::getuid() != 0)
      return QStringLiteral("needs root: the sshd fixture creates the user r1node (CI runs as root)");
    if (!QFile::exists(QStringLiteral("/usr/sbin/sshd")))
      return QStringLiteral("/usr/sbin/sshd is missing: install openssh-server (setup.sh does)");
    return {};
  }

  // sshd in <dir>/sshd on `addresses`, and <dir>/work owned by the node user; <dir> readable by
  // it. Returns empty on success, else what failed.
  QString start(const QString& dir, const QStringList& addresses) {
    QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner |
                                   QFile::ReadOther | QFile::ExeOther | QFile::ReadGroup |
                                   QFile::ExeGroup);
    dir_ = dir;
    addresses_ = addresses;
    sshd_ = dir + QStringLiteral("/sshd");
    int rc = 0;
    const QString out = run(QStringLiteral("sh '%1' start '%2' %3 %4 %5")
                                .arg(fixture_, sshd_)
                                .arg(free_port())
                                .arg(QString::fromLatin1(kNodeUser), addresses.join(QLatin1Char(' '))),
                            &rc);
    if (rc != 0) return out;
    started_ = true;
    const passwd* pw = ::getpwnam(kNodeUser);
    if (!pw) return QStringLiteral("the fixture did not create the user r1node");
    const QString work = dir + QStringLiteral("/work");
    if (!QDir().mkpath(work) ||
        ::chown(QFile::encodeName(work).constData(), pw->pw_uid, pw->pw_gid) != 0)
      return QStringLiteral("cannot give %1 to r1node").arg(work);
    return {};
  }

  void stop() {
    if (started_) run(QStringLiteral("sh '%1' stop '%2'").arg(fixture_, sshd_));
    started_ = false;
  }

  const QString& sshd_dir() const { return sshd_; }  // keys and sshd_config
  QString port() const {
    return run(QStringLiteral("awk '/^Port/ {print $2}' '%1/sshd_config'").arg(sshd_));
  }
  // A profile of these nodes (node-a, node-b, … one CPU slot each) as the workbench's tests
  // use it: the fixture's client key, known_hosts and work folder under the started folder, no
  // ssh config, Gloo over loopback.
  r1::cluster::Profile profile(const std::string& name, const std::string& worker) const {
    r1::cluster::Profile p;
    p.name = name;
    const int port_number = port().toInt();
    for (int i = 0; i < addresses_.size(); ++i) {
      r1::cluster::Node n;
      n.host = addresses_[i].toStdString();
      n.name = std::string("node-") + static_cast<char>('a' + i);
      n.port = port_number;
      n.user = kNodeUser;
      n.identity_file = (sshd_ + QStringLiteral("/client_ed25519")).toStdString();
      n.slots = 1;
      p.nodes.push_back(n);
    }
    p.known_hosts = (dir_ + QStringLiteral("/known_hosts")).toStdString();
    p.ssh_config = "/dev/null";
    p.worker = worker;
    p.remote_workdir = (dir_ + QStringLiteral("/work/jobs")).toStdString();
    p.gloo_socket_ifname = "lo";
    return p;
  }
  QString host_key_fingerprint() const {
    return run(QStringLiteral("ssh-keygen -lf '%1/host_ed25519.pub' | awk '{print $2}'").arg(sshd_));
  }

 private:
  QString fixture_, dir_, sshd_;
  QStringList addresses_;
  bool started_ = false;
};

}  // namespace r1::test
