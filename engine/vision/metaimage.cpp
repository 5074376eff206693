#include "engine/vision/metaimage.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include "engine/vision/csv.h"
#include "engine/vision/vision_error.h"

namespace r1::vision {

namespace fs = std::filesystem;

namespace {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr bool kHostMsb = true;
#else
constexpr bool kHostMsb = false;
#endif

constexpr size_t kMaxHeaderBytes = 1 << 20;

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw VisionError("MetaImage " + path + ": " + why);
}

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

struct Field {
  std::string key;  // as written
  std::string value;
  int line = 0;
};

struct HeaderText {
  std::map<std::string, Field> fields;  // by lower-case key
  int64_t data_offset = 0;              // bytes up to and including the ElementDataFile line
};

HeaderText parse_header_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  HeaderText h;
  std::string line;
  int line_no = 0;
  int64_t consumed = 0;
  while (std::getline(in, line)) {
    ++line_no;
    consumed += static_cast<int64_t>(line.size()) + (in.eof() ? 0 : 1);
    if (static_cast<size_t>(consumed) > kMaxHeaderBytes) {
      fail(path, "no ElementDataFile in its first 1 MiB: not a MetaImage header");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      fail(path, "line " + std::to_string(line_no) + ": expected 'Key = Value', got '" +
                     line.substr(0, 60) + "'");
    }
    Field f{trim(line.substr(0, eq)), trim(line.substr(eq + 1)), line_no};
    const std::string key = lower(f.key);
    h.fields[key] = f;
    if (key == "elementdatafile") {
      h.data_offset = consumed;
      return h;
    }
  }
  fail(path, "no ElementDataFile line: not a MetaImage header (or a truncated one)");
}

const Field* find(const HeaderText& h, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = h.fields.find(k);
    if (it != h.fields.end()) return &it->second;
  }
  return nullptr;
}

std::string where(const std::string& path, const Field& f) {
  return "MetaImage " + path + " line " + std::to_string(f.line) + " (" + f.key + ")";
}

std::vector<double> numbers(const std::string& path, const Field& f, size_t count) {
  std::vector<double> out;
  std::istringstream s(f.value);
  std::string tok;
  while (s >> tok) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(tok.c_str(), &end);
    if (end == tok.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
      throw VisionError(where(path, f) + ": '" + tok + "' is not a number");
    }
    out.push_back(v);
  }
  if (out.size() != count) {
    throw VisionError(where(path, f) + ": expected " + std::to_string(count) + " numbers, got " +
                      std::to_string(out.size()) + " ('" + f.value + "')");
  }
  return out;
}

int64_t integer(const std::string& path, const Field& f) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(f.value.c_str(), &end, 10);
  if (f.value.empty() || *end != '\0' || errno == ERANGE) {
    throw VisionError(where(path, f) + ": '" + f.value + "' is not an integer");
  }
  return v;
}

bool boolean(const std::string& path, const Field& f) {
  const std::string v = lower(f.value);
  if (v == "true" || v == "t" || v == "1") return true;
  if (v == "false" || v == "f" || v == "0") return false;
  throw VisionError(where(path, f) + ": '" + f.value + "' is not True or False");
}

int element_size(const std::string& type) {
  if (type == "MET_CHAR" || type == "MET_UCHAR") return 1;
  if (type == "MET_SHORT" || type == "MET_USHORT") return 2;
  if (type == "MET_INT" || type == "MET_UINT" || type == "MET_FLOAT") return 4;
  if (type == "MET_DOUBLE") return 8;
  return 0;
}

template <typename T>
T load(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

template <typename T>
Volume convert(const VolumeGeometry& g, const std::vector<unsigned char>& bytes, bool swap) {
  const size_t n = g.voxel_count();
  Volume v;
  v.geometry = g;
  if constexpr (std::is_floating_point_v<T>) {
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(load<T>(&bytes[i * sizeof(T)], swap));
    v.voxels = std::move(out);
  } else {
    bool fits = true;
    for (size_t i = 0; i < n && fits; ++i) {
      const auto x = static_cast<int64_t>(load<T>(&bytes[i * sizeof(T)], swap));
      fits = x >= std::numeric_limits<int16_t>::min() && x <= std::numeric_limits<int16_t>::max();
    }
    if (fits) {
      std::vector<int16_t> out(n);
      for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<int16_t>(load<T>(&bytes[i * sizeof(T)], swap));
      v.voxels = std::move(out);
    } else {
      std::vector<float> out(n);
      for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<float>(load<T>(&bytes[i * sizeof(T)], swap));
      v.voxels = std::move(out);
    }
  }
  return v;
}

void inflate_all(const std::string& what, const std::vector<unsigned char>& in,
                 std::vector<unsigned char>& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) fail(what, "zlib initialisation failed");
  size_t in_pos = 0, out_pos = 0;
  unsigned char spare = 0;  // room for one byte too many: tells "longer than needed" apart
  bool in_spare = false;
  int rc = Z_OK;
  std::string error;
  for (;;) {
    if (zs.avail_in == 0 && in_pos < in.size()) {
      const size_t step = std::min<size_t>(in.size() - in_pos, size_t{1} << 30);
      zs.next_in = const_cast<unsigned char*>(in.data()) + in_pos;
      zs.avail_in = static_cast<uInt>(step);
      in_pos += step;
    }
    if (zs.avail_out == 0) {
      if (out_pos < out.size()) {
        const size_t step = std::min<size_t>(out.size() - out_pos, size_t{1} << 30);
        zs.next_out = out.data() + out_pos;
        zs.avail_out = static_cast<uInt>(step);
        out_pos += step;
      } else if (!in_spare) {
        zs.next_out = &spare;
        zs.avail_out = 1;
        in_spare = true;
      } else {
        error = "compressed data inflates to more bytes than DimSize and ElementType need (" +
                std::to_string(out.size()) + ")";
        break;
      }
    }
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos == in.size()) {
      error = "compressed data ends early";
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = std::string("corrupt compressed data (") + (zs.msg ? zs.msg : "zlib error") + ")";
      break;
    }
  }
  const size_t produced =
      in_spare ? out.size() + (zs.avail_out == 0 ? 1 : 0) : out_pos - zs.avail_out;
  inflateEnd(&zs);
  if (error.empty() && produced != out.size()) {
    error = "compressed data inflates to " + std::to_string(produced) + " bytes, DimSize and " +
            "ElementType need " + std::to_string(out.size());
  }
  if (!error.empty()) fail(what, error);
}

void write_file(const std::string& path, const std::string& head, const unsigned char* data,
                size_t n) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    fail(path, "folder " + parent.string() + " does not exist");
  }
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot create " + tmp + ": " + std::strerror(errno));
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    while (n > 0 && out) {
      const size_t step = std::min<size_t>(n, size_t{1} << 28);
      out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(step));
      data += step;
      n -= step;
    }
    out.flush();
    if (!out) {
      const std::string why = std::strerror(errno);
      std::remove(tmp.c_str());
      fail(path, "write failed: " + why);
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename " + tmp + " into place: " + ec.message());
  }
}

std::vector<unsigned char> deflate_all(const std::string& path, const unsigned char* data,
                                       size_t n) {
  z_stream zs{};
  if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) fail(path, "zlib initialisation failed");
  std::vector<unsigned char> out;
  std::vector<unsigned char> chunk(1 << 20);
  size_t in_left = n;
  zs.next_in = const_cast<unsigned char*>(data);
  int rc = Z_OK;
  do {
    const auto in_step = static_cast<uInt>(std::min<size_t>(in_left, 1u << 30));
    zs.avail_in = in_step;
    const int flush = in_left == in_step ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = chunk.data();
      zs.avail_out = static_cast<uInt>(chunk.size());
      rc = deflate(&zs, flush);
      out.insert(out.end(), chunk.data(), chunk.data() + (chunk.size() - zs.avail_out));
    } while (zs.avail_out == 0);
    in_left -= in_step;
  } while (rc != Z_STREAM_END);
  deflateEnd(&zs);
  return out;
}

}  // namespace

MetaImageHeader read_metaimage_header(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    fail(path, fs::exists(path, ec) ? "not a regular file" : "no such file");
  }
  const HeaderText h = parse_header_text(path);
  MetaImageHeader m;

  if (const Field* f = find(h, {"objecttype"}); f && lower(f->value) != "image") {
    throw VisionError(where(path, *f) + ": '" + f->value + "' is not supported, only Image");
  }
  const Field* nd = find(h, {"ndims"});
  if (!nd) fail(path, "no NDims line");
  const int64_t ndims = integer(path, *nd);
  if (ndims != 2 && ndims != 3) {
    throw VisionError(where(path, *nd) + ": " + std::to_string(ndims) +
                      " dimensions are not supported, only 2 or 3");
  }
  m.ndims = static_cast<int>(ndims);
  const size_t n = static_cast<size_t>(ndims);

  const Field* dim = find(h, {"dimsize"});
  if (!dim) fail(path, "no DimSize line");
  const auto dims = numbers(path, *dim, n);
  for (size_t a = 0; a < n; ++a) {
    if (dims[a] < 1 || dims[a] != std::floor(dims[a]) || dims[a] > 1e9) {
      throw VisionError(where(path, *dim) + ": '" + dim->value + "' are not positive integers");
    }
    m.geometry.size[a] = static_cast<int64_t>(dims[a]);
  }
  if (n == 2) m.geometry.size[2] = 1;

  if (const Field* f = find(h, {"elementspacing", "elementsize"})) {
    const auto s = numbers(path, *f, n);
    for (size_t a = 0; a < n; ++a) {
      if (!(s[a] > 0)) {
        throw VisionError(where(path, *f) + ": spacing must be positive, got '" + f->value + "'");
      }
      m.geometry.spacing[a] = s[a];
    }
  }
  if (const Field* f = find(h, {"offset", "origin", "position"})) {
    const auto o = numbers(path, *f, n);
    m.geometry.origin = {o[0], o[1], n == 3 ? o[2] : 0.0};
  }
  if (const Field* f = find(h, {"transformmatrix", "rotation", "orientation"})) {
    const auto t = numbers(path, *f, n * n);
    // t lists index axis 0's direction vector first: t[axis * n + component] = D[component][axis]
    std::array<double, 9> d{1, 0, 0, 0, 1, 0, 0, 0, 1};
    for (size_t axis = 0; axis < n; ++axis)
      for (size_t comp = 0; comp < n; ++comp) d[3 * comp + axis] = t[axis * n + comp];
    m.geometry.direction = d;
  }
  m.geometry.validate("MetaImage " + path);

  const Field* et = find(h, {"elementtype"});
  if (!et) fail(path, "no ElementType line");
  m.element_type = et->value;
  if (element_size(m.element_type) == 0) {
    throw VisionError(where(path, *et) + ": unsupported pixel type '" + et->value +
                      "' (supported: MET_CHAR, MET_UCHAR, MET_SHORT, MET_USHORT, MET_INT, "
                      "MET_UINT, MET_FLOAT, MET_DOUBLE)");
  }
  if (const Field* f = find(h, {"elementnumberofchannels"}); f && integer(path, *f) != 1) {
    throw VisionError(where(path, *f) + ": " + f->value +
                      " channels per voxel are not supported, only scalar images");
  }
  if (const Field* f = find(h, {"binarydata"}); f && !boolean(path, *f)) {
    throw VisionError(where(path, *f) + ": ASCII voxel data is not supported");
  }
  if (const Field* f = find(h, {"binarydatabyteordermsb", "elementbyteordermsb"})) {
    m.msb = boolean(path, *f);
  }
  if (const Field* f = find(h, {"compresseddata"})) m.compressed = boolean(path, *f);
  if (const Field* f = find(h, {"compresseddatasize"})) {
    m.compressed_size = integer(path, *f);
    if (m.compressed_size <= 0) {
      throw VisionError(where(path, *f) + ": must be positive, got " + f->value);
    }
  }
  if (const Field* f = find(h, {"headersize"})) {
    m.header_size = integer(path, *f);
    if (m.header_size < -1) throw VisionError(where(path, *f) + ": must be -1 or more");
  }
  const Field& df = h.fields.at("elementdatafile");
  m.data_file = df.value;
  if (m.data_file.empty()) throw VisionError(where(path, df) + ": empty file name");
  if (lower(m.data_file) == "list" || m.data_file.find('%') != std::string::npos) {
    throw VisionError(where(path, df) + ": '" + m.data_file +
                      "': slice lists and file patterns are not supported, only one data file");
  }
  if (m.data_file == "LOCAL" || lower(m.data_file) == "local") {
    m.data_file = "LOCAL";
    m.local_data_offset = h.data_offset;
  }
  return m;
}

Volume read_metaimage(const std::string& path) {
  const MetaImageHeader m = read_metaimage_header(path);
  const bool local = m.data_file == "LOCAL";
  std::string data_path = path;
  if (!local) {
    fs::path p(m.data_file);
    data_path = p.is_absolute() ? p.string() : (fs::path(path).parent_path() / p).string();
  }
  std::error_code ec;
  if (!fs::is_regular_file(data_path, ec)) {
    fail(path, "data file " + data_path +
                   (fs::exists(data_path, ec) ? " is not a regular file" : " is missing"));
  }
  const auto file_size = static_cast<int64_t>(fs::file_size(data_path, ec));
  if (ec) fail(path, "cannot stat data file " + data_path + ": " + ec.message());

  const int es = element_size(m.element_type);
  const auto need = static_cast<int64_t>(m.geometry.voxel_count()) * es;
  const int64_t base = local ? m.local_data_offset : 0;
  const std::string dims = std::to_string(m.geometry.size[0]) + "x" +
                           std::to_string(m.geometry.size[1]) +
                           (m.ndims == 3 ? "x" + std::to_string(m.geometry.size[2]) : "");
  int64_t start = 0, length = 0;
  if (m.compressed) {
    if (m.header_size == -1) fail(path, "HeaderSize = -1 cannot be used with compressed data");
    start = base + m.header_size;
    length = m.compressed_size > 0 ? m.compressed_size : file_size - start;
    if (length <= 0 || start + length > file_size) {
      fail(path, "data file " + data_path + " has " + std::to_string(file_size - start) +
                     " bytes of compressed data, CompressedDataSize says " +
                     std::to_string(m.compressed_size));
    }
  } else {
    start = m.header_size == -1 ? file_size - need : base + m.header_size;
    length = need;
    const int64_t have = file_size - std::max<int64_t>(start, base);
    if (start < base || have != need) {
      fail(path, "data file " + data_path + " has the wrong size: " + std::to_string(have) +
                     " bytes of voxel data, DimSize " + dims + " of " + m.element_type + " needs " +
                     std::to_string(need));
    }
  }

  std::ifstream in(data_path, std::ios::binary);
  if (!in) fail(path, "cannot open data file " + data_path + ": " + std::strerror(errno));
  in.seekg(start);
  const bool swap = m.msb != kHostMsb;
  const auto& g = m.geometry;
  const std::string& t = m.element_type;
  if (t == "MET_SHORT" && !m.compressed) {
    // LUNA16's case: straight into the voxels, no second copy of a few hundred MB.
    std::vector<int16_t> out(g.voxel_count());
    in.read(reinterpret_cast<char*>(out.data()), length);
    if (in.gcount() != length) fail(path, "short read from data file " + data_path);
    if (swap) {
      for (auto& x : out) x = static_cast<int16_t>(__builtin_bswap16(static_cast<uint16_t>(x)));
    }
    Volume v;
    v.geometry = g;
    v.voxels = std::move(out);
    return v;
  }
  std::vector<unsigned char> raw(static_cast<size_t>(length));
  in.read(reinterpret_cast<char*>(raw.data()), length);
  if (in.gcount() != length) fail(path, "short read from data file " + data_path);

  std::vector<unsigned char> bytes;
  if (m.compressed) {
    bytes.resize(static_cast<size_t>(need));
    inflate_all(path + " (data file " + data_path + ")", raw, bytes);
  } else {
    bytes = std::move(raw);
  }
  if (t == "MET_SHORT") {
    Volume v;
    v.geometry = g;
    std::vector<int16_t> out(g.voxel_count());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    if (swap)
      for (auto& x : out) x = static_cast<int16_t>(__builtin_bswap16(static_cast<uint16_t>(x)));
    v.voxels = std::move(out);
    return v;
  }
  if (t == "MET_CHAR") return convert<int8_t>(g, bytes, swap);
  if (t == "MET_UCHAR") return convert<uint8_t>(g, bytes, swap);
  if (t == "MET_USHORT") return convert<uint16_t>(g, bytes, swap);
  if (t == "MET_INT") return convert<int32_t>(g, bytes, swap);
  if (t == "MET_UINT") return convert<uint32_t>(g, bytes, swap);
  if (t == "MET_FLOAT") return convert<float>(g, bytes, swap);
  return convert<double>(g, bytes, swap);
}

void write_metaimage(const Volume& volume, const std::string& path, bool compress) {
  volume.validate("MetaImage " + path);
  const std::string ext = lower(fs::path(path).extension().string());
  if (ext != ".mhd" && ext != ".mha") fail(path, "expected a .mhd or .mha file name");
  const bool local = ext == ".mha";
  const auto& g = volume.geometry;

  const bool is16 = volume.type() == VoxelType::Int16;
  const size_t n = g.voxel_count();
  const size_t es = is16 ? 2 : 4;
  std::vector<unsigned char> swapped;
  const unsigned char* data = is16
                                  ? reinterpret_cast<const unsigned char*>(volume.int16().data())
                                  : reinterpret_cast<const unsigned char*>(volume.float32().data());
  if (kHostMsb) {
    swapped.assign(data, data + n * es);
    for (size_t i = 0; i < n; ++i) std::reverse(&swapped[i * es], &swapped[i * es] + es);
    data = swapped.data();
  }
  std::vector<unsigned char> packed;
  size_t bytes = n * es;
  if (compress) {
    packed = deflate_all(path, data, bytes);
    data = packed.data();
    bytes = packed.size();
  }

  const std::string stem = fs::path(path).stem().string();
  const std::string data_name = local ? "LOCAL" : stem + (compress ? ".zraw" : ".raw");
  std::ostringstream h;
  h << "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
    << "CompressedData = " << (compress ? "True" : "False") << "\n";
  if (compress) h << "CompressedDataSize = " << bytes << "\n";
  h << "TransformMatrix =";
  for (int axis = 0; axis < 3; ++axis)
    for (int comp = 0; comp < 3; ++comp) h << ' ' << csv_number(g.direction[3 * comp + axis]);
  h << "\nOffset = " << csv_number(g.origin.x) << ' ' << csv_number(g.origin.y) << ' '
    << csv_number(g.origin.z)
    << "\nCenterOfRotation = 0 0 0\nElementSpacing = " << csv_number(g.spacing[0]) << ' '
    << csv_number(g.spacing[1]) << ' ' << csv_number(g.spacing[2]) << "\nDimSize = " << g.size[0]
    << ' ' << g.size[1] << ' ' << g.size[2]
    << "\nElementType = " << (is16 ? "MET_SHORT" : "MET_FLOAT")
    << "\nElementDataFile = " << data_name << "\n";

  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    fail(path, "folder " + parent.string() + " does not exist");
  }
  if (local) {
    write_file(path, h.str(), data, bytes);
  } else {
    write_file((fs::path(path).parent_path() / data_name).string(), {}, data, bytes);
    write_file(path, h.str(), nullptr, 0);
  }
}

}  // namespace r1::vision
