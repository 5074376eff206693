#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1::data {

struct CorpusStats {
  size_t files = 0;           // files that contributed documents
  size_t documents = 0;
  size_t bytes = 0;           // UTF-8 bytes of all documents after cleaning
  size_t replaced_bytes = 0;  // invalid UTF-8 bytes replaced by U+FFFD
};

// Reads text documents from files and folders (folders recursively, files in sorted path
// order). In every folder: hidden entries, "*.dat" files and binary files (a NUL byte in the
// first 8 KB) are skipped; of a pair "foo" + "foo.u8" only one is read ("foo" when it is valid
// UTF-8, else "foo.u8"). A fortune file (some line is exactly "%") gives one document per
// entry, any other file one document; whitespace-only documents are dropped. Text is cleaned
// with clean_text(). Throws DataError for a missing path or when no document is found.
std::vector<std::string> load_corpus(const std::vector<std::string>& paths,
                                     CorpusStats* stats = nullptr);

// The existing ones of the system corpus folders (Debian packages fortunes, fortunes-zh).
std::vector<std::string> default_corpus_paths();

// Replaces each byte of invalid UTF-8 by U+FFFD (adding their number to *replaced_bytes),
// strips ANSI escape sequences (CSI, OSC and two-byte ESC sequences) and turns CRLF into LF.
std::string clean_text(std::string_view raw, size_t* replaced_bytes = nullptr);

// Length (1-4) of the valid UTF-8 sequence starting at s[pos], storing its code point in *cp;
// 0 when the bytes there are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
int utf8_decode(std::string_view s, size_t pos, uint32_t* cp);

// 64-bit non-cryptographic hash (FNV-1a over 8-byte words with a final avalanche).
uint64_t hash_bytes(std::string_view data, uint64_t seed = 0);

}  // namespace r1::data
