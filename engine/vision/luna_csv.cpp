#include "engine/vision/luna_csv.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/vision/csv.h"
#include "engine/vision/vision_error.h"

namespace r1::vision {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A CSV file whose columns have been matched to the names a LUNA16 file needs.
class Table {
 public:
  Table(const std::string& path, const std::string& what, std::vector<std::string> names)
      : path_(path), what_(what), names_(std::move(names)) {
    rows_ = read_csv(path, what);
    index_.resize(names_.size());
    for (size_t c = 0; c < names_.size(); ++c) index_[c] = c;
    width_ = names_.size();
    if (rows_.empty()) return;
    const CsvRecord& first = rows_.front();
    bool header = false;
    for (const auto& f : first.fields)
      for (const auto& n : names_) header = header || lower(trim(f)) == lower(n);
    if (!header) return;
    header_ = true;
    width_ = first.fields.size();
    for (size_t c = 0; c < names_.size(); ++c) {
      int found = -1;
      for (size_t k = 0; k < first.fields.size(); ++k) {
        if (lower(trim(first.fields[k])) != lower(names_[c])) continue;
        if (found >= 0) {
          fail_at(first.line, k, "column '" + names_[c] + "' appears twice in the header");
        }
        found = static_cast<int>(k);
      }
      if (found < 0) {
        throw VisionError(what_ + " " + path_ + " line " + std::to_string(first.line) +
                          ": the header has no '" + names_[c] + "' column (needs " + joined() +
                          ")");
      }
      index_[c] = static_cast<size_t>(found);
    }
    rows_.erase(rows_.begin());
  }

  const std::vector<CsvRecord>& rows() const { return rows_; }

  // Field `c` (index into the needed names) of `row`, trimmed; checks the row's width first.
  std::string text(const CsvRecord& row, size_t c) const {
    if (row.fields.size() != width_) {
      fail_at(row.line, std::min(row.fields.size(), width_),
              std::to_string(row.fields.size()) + " fields, expected " + std::to_string(width_) +
                  (header_ ? " (as the header)" : " (" + joined() + ")"));
    }
    return trim(row.fields[index_[c]]);
  }

  double number(const CsvRecord& row, size_t c) const {
    const std::string s = text(row, c);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty()) fail(row, c, "empty, expected a number");
    if (end == s.c_str() || *end != '\0' || errno == ERANGE) {
      fail(row, c, "'" + s + "' is not a number");
    }
    if (!std::isfinite(v)) fail(row, c, "'" + s + "' is not a finite number");
    return v;
  }

  std::string uid(const CsvRecord& row, size_t c) const {
    std::string s = text(row, c);
    if (s.empty()) fail(row, c, "empty seriesuid");
    return s;
  }

  // An error about needed column `c` of `row`: "line 7, column 4 (coordZ): ...".
  [[noreturn]] void fail(const CsvRecord& row, size_t c, const std::string& why) const {
    fail_at(row.line, index_[c], why, names_[c]);
  }

  // An error at a 0-based field position of a line.
  [[noreturn]] void fail_at(int line, size_t field, const std::string& why,
                            const std::string& name = {}) const {
    throw VisionError(what_ + " " + path_ + " line " + std::to_string(line) + ", column " +
                      std::to_string(field + 1) + (name.empty() ? "" : " (" + name + ")") + ": " +
                      why);
  }

 private:
  std::string joined() const {
    std::string s;
    for (const auto& n : names_) s += (s.empty() ? "" : ",") + n;
    return s;
  }

  std::string path_, what_;
  std::vector<std::string> names_;
  std::vector<CsvRecord> rows_;
  std::vector<size_t> index_;
  size_t width_ = 0;
  bool header_ = false;
};

Vec3 center(const Table& t, const CsvRecord& r) {
  return {t.number(r, 1), t.number(r, 2), t.number(r, 3)};
}

template <typename Row, typename Last>
void write_rows(const std::string& path, const std::string& what, const char* header,
                const std::vector<Row>& rows, Last last) {
  std::string out = header;
  out += '\n';
  for (const auto& r : rows) {
    if (r.seriesuid.empty()) throw VisionError(what + " " + path + ": a row has no seriesuid");
    out += csv_field(r.seriesuid) + ',' + csv_number(r.center.x) + ',' + csv_number(r.center.y) +
           ',' + csv_number(r.center.z) + ',' + last(r) + '\n';
  }
  write_text_file(path, out, what);
}

}  // namespace

std::vector<LunaAnnotation> read_luna_annotations(const std::string& path) {
  const Table t(path, "annotations", {"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"});
  std::vector<LunaAnnotation> out;
  out.reserve(t.rows().size());
  for (const auto& r : t.rows()) out.push_back({t.uid(r, 0), center(t, r), t.number(r, 4)});
  return out;
}

std::vector<LunaCandidate> read_luna_candidates(const std::string& path) {
  const Table t(path, "candidates", {"seriesuid", "coordX", "coordY", "coordZ", "class"});
  std::vector<LunaCandidate> out;
  out.reserve(t.rows().size());
  for (const auto& r : t.rows()) {
    const std::string uid = t.uid(r, 0);
    const Vec3 c = center(t, r);
    const std::string label = t.text(r, 4);
    if (label != "0" && label != "1") {
      t.fail(r, 4, "'" + label + "' is not a class (0 or 1)");
    }
    out.push_back({uid, c, label == "1" ? 1 : 0});
  }
  return out;
}

std::vector<LunaDetection> read_luna_submission(const std::string& path) {
  const Table t(path, "submission", {"seriesuid", "coordX", "coordY", "coordZ", "probability"});
  std::vector<LunaDetection> out;
  out.reserve(t.rows().size());
  for (const auto& r : t.rows()) out.push_back({t.uid(r, 0), center(t, r), t.number(r, 4)});
  return out;
}

void write_luna_annotations(const std::string& path, const std::vector<LunaAnnotation>& rows) {
  write_rows(path, "annotations", "seriesuid,coordX,coordY,coordZ,diameter_mm", rows,
             [](const LunaAnnotation& a) { return csv_number(a.diameter_mm); });
}

void write_luna_candidates(const std::string& path, const std::vector<LunaCandidate>& rows) {
  write_rows(path, "candidates", "seriesuid,coordX,coordY,coordZ,class", rows,
             [&](const LunaCandidate& c) {
               if (c.label != 0 && c.label != 1) {
                 throw VisionError("candidates " + path + ": class " + std::to_string(c.label) +
                                   " for " + c.seriesuid + " is not 0 or 1");
               }
               return std::to_string(c.label);
             });
}

void write_luna_submission(const std::string& path, const std::vector<LunaDetection>& rows) {
  write_rows(path, "submission", "seriesuid,coordX,coordY,coordZ,probability", rows,
             [](const LunaDetection& d) { return csv_number(d.probability); });
}

}  // namespace r1::vision
