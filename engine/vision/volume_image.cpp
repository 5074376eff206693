#include "engine/vision/volume_image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "engine/vision/vision_error.h"

#ifdef R1_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

namespace r1::vision {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string folder_what(const std::string& dir) { return "image folder " + dir; }

void check_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw VisionError(folder_what(dir) + ": no such folder");
  if (!fs::is_directory(dir, ec)) throw VisionError(folder_what(dir) + ": not a folder");
}

#ifdef R1_HAVE_OPENCV

std::vector<std::string> folder_files(const std::string& dir) {
  auto files = list_image_files(dir);
  if (files.empty()) {
    throw VisionError(folder_what(dir) + ": empty (no .png, .jpg or .jpeg files)");
  }
  return files;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// ---- the sidecar -------------------------------------------------------------------------------

std::vector<double> numbers(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  std::vector<double> out;
  std::string tok;
  while (in >> tok) {
    char* end = nullptr;
    const double v = std::strtod(tok.c_str(), &end);
    if (end == tok.c_str() || *end != '\0' || !std::isfinite(v)) {
      throw VisionError(where + ": '" + tok + "' is not a finite number");
    }
    out.push_back(v);
  }
  return out;
}

std::vector<double> numbers(const std::string& text, size_t want, const std::string& where) {
  auto out = numbers(text, where);
  if (out.size() != want) {
    throw VisionError(where + ": expected " + std::to_string(want) + " numbers, found " +
                      std::to_string(out.size()));
  }
  return out;
}

// Fills the fields of `o` that are unset from the sidecar at `path`, when there is one.
void apply_sidecar(const std::string& path, ImageStackOptions& o) {
  std::error_code ec;
  if (!o.read_sidecar || !fs::is_regular_file(path, ec)) return;
  std::ifstream in(path);
  if (!in) throw VisionError("image sidecar " + path + ": cannot open");
  ImageStackOptions s;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    const std::string at = "image sidecar " + path + " line " + std::to_string(n);
    if (eq == std::string::npos) throw VisionError(at + ": expected 'Key = values'");
    const std::string key = trim(line.substr(0, eq));
    const std::string value = line.substr(eq + 1);
    const std::string where = at + " (" + key + ")";
    const std::string k = lower(key);
    if (k == "elementspacing") {
      auto v = numbers(value, where);
      if (v.size() == 2) v.push_back(1.0);
      if (v.size() != 3) {
        throw VisionError(where + ": expected 2 or 3 numbers, found " + std::to_string(v.size()));
      }
      s.spacing = std::array<double, 3>{v[0], v[1], v[2]};
    } else if (k == "offset" || k == "origin") {
      const auto v = numbers(value, 3, where);
      s.origin = Vec3{v[0], v[1], v[2]};
    } else if (k == "transformmatrix") {
      const auto v = numbers(value, 9, where);
      std::array<double, 9> d{};
      for (int row = 0; row < 3; ++row)
        for (int col = 0; col < 3; ++col) d[3 * row + col] = v[3 * col + row];
      s.direction = d;
    } else if (k == "rescaleslope") {
      s.rescale_slope = numbers(value, 1, where)[0];
    } else if (k == "rescaleintercept") {
      s.rescale_intercept = numbers(value, 1, where)[0];
    } else {
      throw VisionError(at + ": unknown key '" + key +
                        "' (expected ElementSpacing, Offset, TransformMatrix, RescaleSlope or "
                        "RescaleIntercept)");
    }
  }
  if (!o.spacing) o.spacing = s.spacing;
  if (!o.origin) o.origin = s.origin;
  if (!o.direction) o.direction = s.direction;
  if (!o.rescale_slope) o.rescale_slope = s.rescale_slope;
  if (!o.rescale_intercept) o.rescale_intercept = s.rescale_intercept;
}

std::string sidecar_of(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return (fs::path(path) / kImageFolderSidecar).string();
  return path + ".txt";
}

VolumeGeometry geometry_of(int64_t w, int64_t h, int64_t n, const ImageStackOptions& o,
                           const std::string& what) {
  VolumeGeometry g;
  g.size = {w, h, n};
  if (o.spacing) g.spacing = *o.spacing;
  if (o.origin) g.origin = *o.origin;
  if (o.direction) g.direction = *o.direction;
  g.validate(what);
  return g;
}

// ---- decoding and stacking --------------------------------------------------------------------

// One decoded slice: 1 channel, CV_8U or CV_16U.
struct Slice {
  cv::Mat gray;
  bool colour = false;
  bool alpha = false;
};

const char* depth_name(int depth) {
  switch (depth) {
    case CV_8U:
      return "8-bit unsigned";
    case CV_8S:
      return "8-bit signed";
    case CV_16U:
      return "16-bit unsigned";
    case CV_16S:
      return "16-bit signed";
    case CV_32S:
      return "32-bit integer";
    case CV_32F:
      return "32-bit float";
    case CV_64F:
      return "64-bit float";
  }
  return "unknown-depth";
}

// BGR(A) → gray with the ITU-R BT.601 weights, rounded.
template <typename T>
cv::Mat to_gray(const cv::Mat& bgr) {
  cv::Mat out(bgr.rows, bgr.cols, cv::DataType<T>::type);
  const int ch = bgr.channels();
  for (int y = 0; y < bgr.rows; ++y) {
    const T* p = bgr.ptr<T>(y);
    T* q = out.ptr<T>(y);
    for (int x = 0; x < bgr.cols; ++x, p += ch) {
      const uint64_t v = 114u * p[0] + 587u * p[1] + 299u * p[2];
      q[x] = static_cast<T>((v + 500) / 1000);
    }
  }
  return out;
}

Slice decode(const std::string& path) {
  const std::string what = "image " + path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    throw VisionError(what + (fs::exists(path, ec) ? ": cannot open" : ": no such file"));
  }
  const std::vector<uchar> bytes{std::istreambuf_iterator<char>(in),
                                 std::istreambuf_iterator<char>()};
  if (bytes.empty()) throw VisionError(what + ": empty file");
  cv::Mat m;
  try {
    // UNCHANGED: keep 16 bits and see colour and alpha; pixels as stored (no EXIF rotation).
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw VisionError(what + ": cannot decode: " + e.err);
  }
  if (m.empty()) {
    throw VisionError(what + ": cannot decode (not a PNG or JPEG image, or a corrupt one)");
  }
  if (m.depth() != CV_8U && m.depth() != CV_16U) {
    throw VisionError(what + ": unsupported depth " + depth_name(m.depth()) +
                      " (8- and 16-bit unsigned images only)");
  }
  Slice s;
  switch (m.channels()) {
    case 1:
      s.gray = m;
      break;
    case 2:  // gray + alpha
      cv::extractChannel(m, s.gray, 0);
      s.alpha = true;
      break;
    case 3:
    case 4:
      s.gray = m.depth() == CV_8U ? to_gray<uint8_t>(m) : to_gray<uint16_t>(m);
      s.colour = true;
      s.alpha = m.channels() == 4;
      break;
    default:
      throw VisionError(what + ": unsupported image with " + std::to_string(m.channels()) +
                        " channels");
  }
  return s;
}

std::string size_of(const cv::Mat& m) {
  return std::to_string(m.cols) + "x" + std::to_string(m.rows);
}

Volume assemble(const std::vector<std::string>& files, const ImageStackOptions& o,
                const std::string& what) {
  if (files.empty()) throw VisionError(what + ": no image files given");
  const double slope = o.rescale_slope.value_or(1.0);
  const double intercept = o.rescale_intercept.value_or(0.0);
  if (!std::isfinite(slope) || !std::isfinite(intercept) || slope == 0) {
    throw VisionError(what + ": rescale slope must be finite and not 0, intercept finite");
  }
  const Slice first = decode(files.front());
  const int64_t w = first.gray.cols, h = first.gray.rows, n = static_cast<int64_t>(files.size());
  Volume v;
  v.geometry = geometry_of(w, h, n, o, what);  // a bad spacing fails before the other slices
  const size_t plane = static_cast<size_t>(w) * static_cast<size_t>(h);
  std::vector<uint16_t> stored(plane * static_cast<size_t>(n));
  uint16_t lo = std::numeric_limits<uint16_t>::max(), hi = 0;
  size_t colour = 0, alpha = 0;
  std::string colour_file, alpha_file;
  for (int64_t z = 0; z < n; ++z) {
    const std::string& file = files[static_cast<size_t>(z)];
    const Slice s = z == 0 ? first : decode(file);
    if (s.gray.cols != w || s.gray.rows != h) {
      throw VisionError(what + ": slice " + file + " is " + size_of(s.gray) + " but " +
                        files.front() + " is " + size_of(first.gray) +
                        " (all slices must have one size)");
    }
    if (s.gray.depth() != first.gray.depth()) {
      throw VisionError(what + ": slice " + file + " is " + depth_name(s.gray.depth()) + " but " +
                        files.front() + " is " + depth_name(first.gray.depth()) +
                        " (all slices must have one bit depth)");
    }
    if (s.colour && colour++ == 0) colour_file = file;
    if (s.alpha && alpha++ == 0) alpha_file = file;
    uint16_t* out = stored.data() + plane * static_cast<size_t>(z);
    for (int y = 0; y < s.gray.rows; ++y) {
      if (s.gray.depth() == CV_8U) {
        std::copy_n(s.gray.ptr<uint8_t>(y), w, out);
      } else {
        std::copy_n(s.gray.ptr<uint16_t>(y), w, out);
      }
      const auto [mn, mx] = std::minmax_element(out, out + w);
      lo = std::min(lo, *mn);
      hi = std::max(hi, *mx);
      out += w;
    }
  }

  const double a = slope * lo + intercept, b = slope * hi + intercept;
  const bool integral = slope == std::trunc(slope) && intercept == std::trunc(intercept);
  if (integral && std::min(a, b) >= std::numeric_limits<int16_t>::min() &&
      std::max(a, b) <= std::numeric_limits<int16_t>::max()) {
    const auto s = static_cast<int64_t>(slope), i = static_cast<int64_t>(intercept);
    std::vector<int16_t> out(stored.size());
    for (size_t k = 0; k < stored.size(); ++k) out[k] = static_cast<int16_t>(s * stored[k] + i);
    v.voxels = std::move(out);
  } else {
    std::vector<float> out(stored.size());
    for (size_t k = 0; k < stored.size(); ++k) {
      out[k] = static_cast<float>(slope * stored[k] + intercept);
    }
    v.voxels = std::move(out);
  }
  if (colour > 0) {
    v.warnings.push_back(std::to_string(colour) + " of " + std::to_string(n) +
                         " slices are colour images (first: " + colour_file +
                         "); converted to gray as 0.299 R + 0.587 G + 0.114 B");
  }
  if (alpha > 0) {
    v.warnings.push_back(std::to_string(alpha) + " of " + std::to_string(n) +
                         " slices have an alpha channel (first: " + alpha_file + "); ignored");
  }
  v.validate(what);
  return v;
}

#else

[[noreturn]] void no_opencv(const std::string& what) {
  throw VisionError(what +
                    ": built without OpenCV (install libopencv-imgcodecs-dev and re-run cmake): "
                    "PNG and JPEG slices cannot be read");
}

#endif

}  // namespace

bool opencv_available() {
#ifdef R1_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

bool is_image_file_name(const std::string& name) {
  const std::string ext = lower(fs::path(name).extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      while (i + 1 < ie && a[i] == '0') ++i;  // leading zeros do not count
      while (j + 1 < je && b[j] == '0') ++j;
      if (ie - i != je - j) return ie - i < je - j;
      const int c = a.compare(i, ie - i, b, j, je - j);
      if (c != 0) return c < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if (i == a.size() && j == b.size()) return a < b;  // equal but for zero padding
  return i == a.size();
}

std::vector<std::string> list_image_files(const std::string& dir) {
  check_folder(dir);
  std::error_code ec;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !is_image_file_name(name)) continue;
    std::error_code fe;
    if (e.is_regular_file(fe)) found.push_back(e.path());
  }
  if (ec) throw VisionError(folder_what(dir) + ": cannot list: " + ec.message());
  std::sort(found.begin(), found.end(), [](const fs::path& x, const fs::path& y) {
    return natural_less(x.filename().string(), y.filename().string());
  });
  std::vector<std::string> out;
  out.reserve(found.size());
  for (const auto& p : found) out.push_back(p.string());
  return out;
}

Volume read_image(const std::string& path, const ImageStackOptions& options) {
#ifdef R1_HAVE_OPENCV
  ImageStackOptions o = options;
  apply_sidecar(sidecar_of(path), o);
  return assemble({path}, o, "image " + path);
#else
  no_opencv("image " + path);
#endif
}

Volume read_image_folder(const std::string& dir, const ImageStackOptions& options) {
#ifdef R1_HAVE_OPENCV
  const auto files = folder_files(dir);
  ImageStackOptions o = options;
  apply_sidecar(sidecar_of(dir), o);
  return assemble(files, o, folder_what(dir));
#else
  no_opencv(folder_what(dir));
#endif
}

Volume read_image_stack(const std::vector<std::string>& files,
                        const ImageStackOptions& options) {
  const std::string what =
      "image stack (" + std::to_string(files.size()) + " files" +
      (files.empty() ? std::string(")") : ", first " + files.front() + ")");
#ifdef R1_HAVE_OPENCV
  return assemble(files, options, what);
#else
  no_opencv(what);
#endif
}

VolumeGeometry read_image_geometry(const std::string& path, const ImageStackOptions& options) {
  std::error_code ec;
  const bool folder = fs::is_directory(path, ec);
  const std::string what = folder ? folder_what(path) : "image " + path;
#ifdef R1_HAVE_OPENCV
  const auto files = folder ? folder_files(path) : std::vector<std::string>{path};
  ImageStackOptions o = options;
  apply_sidecar(sidecar_of(path), o);
  const Slice first = decode(files.front());
  return geometry_of(first.gray.cols, first.gray.rows, static_cast<int64_t>(files.size()), o,
                     what);
#else
  no_opencv(what);
#endif
}

}  // namespace r1::vision
