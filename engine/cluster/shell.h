#pragma once
// Quoting for the POSIX shell on the nodes. Remote scripts are constant text; every value that
// comes from a profile, a path or a user goes into them through sh_quote, so quotes, ';', '$()',
// spaces and newlines stay data.
#include <string>
#include <string_view>

namespace r1::cluster {

// 'text' with every ' written as '\'' (safe for any byte but NUL).
std::string sh_quote(std::string_view text);

// A here-document delimiter that occurs on no line of body.
std::string heredoc_delimiter(std::string_view body);

// "~" and "~/x" become $HOME (or the passwd entry's home) and $HOME/x; other paths unchanged.
std::string expand_home(const std::string& path);

// Printable description of a byte string for messages: control characters escaped.
std::string printable(std::string_view text);

}  // namespace r1::cluster
