#pragma once
// Host key policy: a node's key is known, unknown or changed with respect to the profile's
// known_hosts file. Unknown keys are shown by fingerprint and added only on an explicit trust;
// changed keys are refused. Keys are read with ssh-keyscan and looked up with ssh-keygen -F
// (which matches hashed entries and the "[host]:port" form).
#include "engine/cluster/ssh_session.h"

#include <string>
#include <vector>

namespace r1::cluster {

enum class HostKeyStatus {
  Known,        // a key the node offers is in known_hosts
  Unknown,      // known_hosts has no key for the node
  Changed,      // known_hosts has keys for the node, none of them offered (or one is revoked)
  Unscannable,  // no key could be read (node down, or reached only through a proxy)
};

const char* to_string(HostKeyStatus status);

struct HostKey {
  std::string type;         // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa …
  std::string blob;         // base64
  std::string fingerprint;  // SHA256:…
};

struct HostKeyCheck {
  HostKeyStatus status = HostKeyStatus::Unscannable;
  std::string lookup_name;       // the known_hosts name: host, [host]:port or HostKeyAlias
  std::vector<HostKey> offered;  // what the node presents
  std::vector<HostKey> known;    // what known_hosts holds for lookup_name
  std::string message;           // one sentence naming the node (and what to do)
};

HostKeyCheck check_host_key(const SshSession& session, int timeout_s = 10);

// Appends the offered keys to known_hosts when the node is Unknown. With expected_fingerprints,
// only keys with those fingerprints are added, and a fingerprint the node does not offer is an
// error (what the user checked is what gets trusted). Changed or unscannable nodes throw
// ClusterError. Returns the check after the change.
HostKeyCheck trust_host_key(const SshSession& session,
                            const std::vector<std::string>& expected_fingerprints = {},
                            int timeout_s = 10);

}  // namespace r1::cluster
