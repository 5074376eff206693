#pragma once

#include <string>
#include <vector>

namespace r1::vision {

struct CsvRecord {
  int line = 0;  // 1-based line on which the record starts
  std::vector<std::string> fields;
};

// RFC 4180 CSV: comma-separated fields, optionally double-quoted ("" is a quote inside quotes;
// quoted fields may hold commas and line breaks), LF or CRLF line ends, a UTF-8 byte-order mark
// skipped, blank lines skipped. `what` names the kind of file in errors, e.g.
// "annotations /d/annotations.csv line 4, column 2: text after a closing quote".
std::vector<CsvRecord> read_csv(const std::string& path, const std::string& what);

// A field quoted when it needs to be.
std::string csv_field(const std::string& s);
// The shortest decimal that reads back as exactly `v`.
std::string csv_number(double v);
// Writes `text` to a temporary file beside `path` and renames it into place.
void write_text_file(const std::string& path, const std::string& text, const std::string& what);

}  // namespace r1::vision
