#include "engine/vision/volume_itk.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>

#include "engine/vision/vision_error.h"

#ifdef R1_HAVE_ITK
#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageSeriesReader.h>
#include <itkMetaDataObject.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#endif

namespace r1::vision {

namespace fs = std::filesystem;

#ifdef R1_HAVE_ITK

namespace {

using FloatImage = itk::Image<float, 3>;
using ShortImage = itk::Image<int16_t, 3>;
using ShortSlice = itk::Image<int16_t, 2>;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

enum class Kind { Nifti, Meta, Dicom };

Kind kind_of(const std::string& path) {
  const std::string name = lower(fs::path(path).filename().string());
  auto ends = [&](const char* e) {
    const std::string s(e);
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".nii") || ends(".nii.gz")) return Kind::Nifti;
  if (ends(".mhd") || ends(".mha")) return Kind::Meta;
  return Kind::Dicom;  // .dcm, .ima, or none: DICOM files often have no extension
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Nifti:
      return "NIfTI";
    case Kind::Meta:
      return "MetaImage";
    case Kind::Dicom:
      return "DICOM";
  }
  return "?";
}

void quiet_itk() {
  // ITK prints warnings (e.g. non-uniform slice spacing) to stderr; we report them in
  // Volume::warnings instead.
  static std::once_flag once;
  std::call_once(once, [] { itk::Object::GlobalWarningDisplayOff(); });
}

bool integer_component(itk::IOComponentEnum t) {
  using C = itk::IOComponentEnum;
  return t == C::UCHAR || t == C::CHAR || t == C::USHORT || t == C::SHORT || t == C::UINT ||
         t == C::INT || t == C::ULONG || t == C::LONG || t == C::ULONGLONG || t == C::LONGLONG;
}

void check_pixel_type(itk::ImageIOBase* io, const std::string& what) {
  if (io->GetNumberOfComponents() != 1) {
    throw VisionError(
        what + ": unsupported pixel type: " + std::to_string(io->GetNumberOfComponents()) +
        " components per voxel (" + itk::ImageIOBase::GetPixelTypeAsString(io->GetPixelType()) +
        "), only scalar images are supported");
  }
  const auto ct = io->GetComponentType();
  if (ct == itk::IOComponentEnum::UNKNOWNCOMPONENTTYPE) {
    throw VisionError(what + ": unsupported pixel type (unknown component type)");
  }
  for (unsigned d = 3; d < io->GetNumberOfDimensions(); ++d) {
    if (io->GetDimensions(d) > 1) {
      throw VisionError(what + ": " + std::to_string(io->GetNumberOfDimensions()) +
                        "-D image (dimension " + std::to_string(d + 1) + " has " +
                        std::to_string(io->GetDimensions(d)) +
                        " samples): only 2-D and 3-D images are supported");
    }
  }
}

Volume from_itk(const FloatImage* img, bool integer_source) {
  Volume v;
  auto& g = v.geometry;
  const auto size = img->GetLargestPossibleRegion().GetSize();
  const auto& sp = img->GetSpacing();
  const auto& org = img->GetOrigin();
  const auto& dir = img->GetDirection();
  for (int a = 0; a < 3; ++a) {
    g.size[a] = static_cast<int64_t>(size[a]);
    g.spacing[a] = sp[a];
  }
  g.origin = {org[0], org[1], org[2]};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) g.direction[3 * r + c] = dir(r, c);
  const size_t n = g.voxel_count();
  const float* p = img->GetBufferPointer();
  bool narrow = integer_source;
  for (size_t i = 0; i < n && narrow; ++i) {
    narrow = p[i] == std::nearbyint(p[i]) && p[i] >= std::numeric_limits<int16_t>::min() &&
             p[i] <= std::numeric_limits<int16_t>::max();
  }
  if (narrow) {
    std::vector<int16_t> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<int16_t>(p[i]);
    v.voxels = std::move(out);
  } else {
    v.voxels = std::vector<float>(p, p + n);
  }
  return v;
}

template <typename TImage>
typename TImage::Pointer to_itk(const Volume& v) {
  using Pixel = typename TImage::PixelType;
  const auto& g = v.geometry;
  auto img = TImage::New();
  typename TImage::SizeType size;
  typename TImage::SpacingType spacing;
  typename TImage::PointType origin;
  typename TImage::DirectionType dir;
  for (int a = 0; a < 3; ++a) {
    size[a] = static_cast<itk::SizeValueType>(g.size[a]);
    spacing[a] = g.spacing[a];
  }
  origin[0] = g.origin.x;
  origin[1] = g.origin.y;
  origin[2] = g.origin.z;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) dir(r, c) = g.direction[3 * r + c];
  img->SetRegions(typename TImage::RegionType(size));
  img->SetSpacing(spacing);
  img->SetOrigin(origin);
  img->SetDirection(dir);
  img->Allocate();
  Pixel* out = img->GetBufferPointer();
  if constexpr (std::is_same_v<Pixel, int16_t>) {
    const auto& src = v.int16();
    std::copy(src.begin(), src.end(), out);
  } else {
    const auto src = v.to_float();
    std::copy(src.begin(), src.end(), out);
  }
  return img;
}

std::string describe(const itk::ExceptionObject& e) {
  std::string d = e.GetDescription();
  while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
  return d;
}

void require_file(const std::string& path, const char* kind) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw VisionError(std::string(kind) + " " + path + ": no such file");
  if (!fs::is_regular_file(path, ec)) {
    throw VisionError(std::string(kind) + " " + path + ": not a regular file");
  }
}

// A DICOM UID under the 2.25 root (a UUID as a decimal integer), as any writer may mint.
std::string new_uid() {
  std::random_device rd;
  unsigned __int128 x = 0;
  for (int i = 0; i < 4; ++i) x = (x << 32) | rd();
  x &= (static_cast<unsigned __int128>(1) << 122) - 1;  // keep well under 39 digits
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(x % 10)));
    x /= 10;
  } while (x != 0);
  std::reverse(digits.begin(), digits.end());
  return "2.25." + digits;
}

std::string ds(double v) {
  // DICOM DS: at most 16 characters.
  char buf[32];
  for (int p = 10; p >= 1; --p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strlen(buf) <= 16) break;
  }
  return buf;
}

}  // namespace

bool itk_available() { return true; }

Volume itk_read_file(const std::string& path) {
  quiet_itk();
  const Kind kind = kind_of(path);
  const std::string what = std::string(kind_name(kind)) + " " + path;
  require_file(path, kind_name(kind));
  itk::ImageIOBase::Pointer io;
  switch (kind) {
    case Kind::Nifti:
      io = itk::NiftiImageIO::New();
      break;
    case Kind::Meta:
      io = itk::MetaImageIO::New();
      break;
    default:
      io = itk::GDCMImageIO::New();
      break;
  }
  if (!io->CanReadFile(path.c_str())) {
    throw VisionError(what + ": not a readable " + kind_name(kind) + " file");
  }
  try {
    io->SetFileName(path);
    io->ReadImageInformation();
    check_pixel_type(io, what);
    const bool integer = integer_component(io->GetComponentType());
    auto reader = itk::ImageFileReader<FloatImage>::New();
    reader->SetImageIO(io);
    reader->SetFileName(path);
    reader->Update();
    Volume v = from_itk(reader->GetOutput(), integer);
    v.validate(what);
    return v;
  } catch (const itk::ExceptionObject& e) {
    throw VisionError(what + ": " + describe(e));
  }
}

std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir) {
  quiet_itk();
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw VisionError("DICOM folder " + dir + ": no such folder");
  if (!fs::is_directory(dir, ec)) throw VisionError("DICOM folder " + dir + ": not a folder");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) files += e.is_regular_file() ? 1 : 0;
  if (files == 0) throw VisionError("DICOM folder " + dir + ": empty folder (no files)");
  std::vector<DicomSeriesInfo> out;
  try {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(dir);
    for (const auto& uid : names->GetSeriesUIDs()) {
      out.push_back({uid, names->GetFileNames(uid).size()});
    }
  } catch (const itk::ExceptionObject& e) {
    throw VisionError("DICOM folder " + dir + ": " + describe(e));
  }
  if (out.empty()) {
    throw VisionError("DICOM folder " + dir + ": none of its " + std::to_string(files) +
                      " files is a DICOM image");
  }
  return out;
}

Volume itk_read_dicom_series(const std::string& dir, const std::string& series_uid) {
  const auto series = list_dicom_series(dir);
  const std::string what = "DICOM folder " + dir;
  std::string chosen;
  if (series_uid.empty()) {
    if (series.size() > 1) {
      std::string list;
      for (const auto& s : series)
        list += "\n  " + s.uid + " (" + std::to_string(s.files) + " files)";
      throw VisionError(what + ": holds " + std::to_string(series.size()) +
                        " series; name one:" + list);
    }
    chosen = series.front().uid;
  } else {
    for (const auto& s : series) {
      // ITK appends series details to the Series Instance UID: accept the plain UID as a prefix.
      const bool match =
          s.uid == series_uid ||
          (s.uid.size() > series_uid.size() &&
           s.uid.compare(0, series_uid.size(), series_uid) == 0 && s.uid[series_uid.size()] == '.');
      if (!match) continue;
      if (!chosen.empty()) {
        throw VisionError(what + ": series " + series_uid +
                          " is split into several (different orientation, size or thickness); "
                          "name one of the detailed UIDs that list_dicom_series() gives");
      }
      chosen = s.uid;
    }
    if (chosen.empty()) throw VisionError(what + ": no series " + series_uid);
  }
  quiet_itk();
  try {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(dir);
    const auto files = names->GetFileNames(chosen);
    auto io = itk::GDCMImageIO::New();
    io->SetFileName(files.front());
    io->ReadImageInformation();
    check_pixel_type(io, what + " (" + files.front() + ")");
    const bool integer = integer_component(io->GetComponentType());
    auto reader = itk::ImageSeriesReader<FloatImage>::New();
    reader->SetImageIO(io);
    reader->SetFileNames(files);
    reader->Update();
    Volume v = from_itk(reader->GetOutput(), integer);
    v.validate(what);
    double deviation = 0;
    if (itk::ExposeMetaData<double>(reader->GetOutput()->GetMetaDataDictionary(),
                                    "ITK_non_uniform_sampling_deviation", deviation) &&
        deviation > 1e-3 * v.geometry.spacing[2]) {
      std::ostringstream s;
      s << "non-uniform slice spacing (largest deviation " << deviation << " mm from "
        << v.geometry.spacing[2] << " mm): missing slices? World positions past the gap are off";
      v.warnings.push_back(s.str());
    }
    return v;
  } catch (const itk::ExceptionObject& e) {
    throw VisionError(what + ": " + describe(e));
  }
}

void itk_write_file(const Volume& volume, const std::string& path) {
  quiet_itk();
  const Kind kind = kind_of(path);
  const std::string what = std::string(kind_name(kind)) + " " + path;
  volume.validate(what);
  itk::ImageIOBase::Pointer io;
  if (kind == Kind::Nifti) {
    io = itk::NiftiImageIO::New();
  } else if (kind == Kind::Meta) {
    io = itk::MetaImageIO::New();
  } else {
    throw VisionError(what + ": ITK writing supports .nii, .nii.gz, .mhd and .mha");
  }
  try {
    if (volume.type() == VoxelType::Int16) {
      auto writer = itk::ImageFileWriter<ShortImage>::New();
      writer->SetImageIO(io);
      writer->SetFileName(path);
      writer->SetInput(to_itk<ShortImage>(volume));
      writer->Update();
    } else {
      auto writer = itk::ImageFileWriter<FloatImage>::New();
      writer->SetImageIO(io);
      writer->SetFileName(path);
      writer->SetInput(to_itk<FloatImage>(volume));
      writer->Update();
    }
  } catch (const itk::ExceptionObject& e) {
    throw VisionError(what + ": " + describe(e));
  }
}

void write_dicom_series(const Volume& volume, const std::string& dir,
                        const DicomSeriesWriteOptions& options) {
  quiet_itk();
  const std::string what = "DICOM folder " + dir;
  volume.validate(what);
  if (volume.type() != VoxelType::Int16) {
    throw VisionError(what + ": write_dicom_series takes int16 volumes only");
  }
  if (!(options.rescale_slope > 0)) throw VisionError(what + ": rescale slope must be positive");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw VisionError(what + ": cannot create: " + ec.message());

  const auto& g = volume.geometry;
  const std::string study = options.study_uid.empty() ? new_uid() : options.study_uid;
  const std::string series = options.series_uid.empty() ? new_uid() : options.series_uid;
  const std::string frame = new_uid();
  const double* d = g.direction.data();
  std::ostringstream iop;
  iop << ds(d[0]) << '\\' << ds(d[3]) << '\\' << ds(d[6]) << '\\' << ds(d[1]) << '\\' << ds(d[4])
      << '\\' << ds(d[7]);
  const Vec3 normal{d[2], d[5], d[8]};
  const auto& hu = volume.int16();
  const size_t plane = static_cast<size_t>(g.size[0] * g.size[1]);

  for (int64_t k = 0; k < g.size[2]; ++k) {
    const Vec3 ipp = g.index_to_world({0, 0, static_cast<double>(k)});
    std::ostringstream pos;
    pos << ds(ipp.x) << '\\' << ds(ipp.y) << '\\' << ds(ipp.z);
    itk::MetaDataDictionary dict;
    auto put = [&](const char* tag, const std::string& value) {
      itk::EncapsulateMetaData<std::string>(dict, tag, value);
    };
    put("0008|0016", "1.2.840.10008.5.1.4.1.1.2");  // CT Image Storage
    put("0008|0018", series + "." + std::to_string(k + 1));
    put("0008|0060", "CT");
    put("0010|0010", options.patient_id);
    put("0010|0020", options.patient_id);
    put("0018|0050", ds(g.spacing[2]));
    put("0018|0088", ds(g.spacing[2]));
    put("0020|000d", study);
    put("0020|000e", series);
    put("0020|0013", std::to_string(k + 1));
    put("0020|0032", pos.str());
    put("0020|0037", iop.str());
    put("0020|0052", frame);
    put("0020|1041", ds(dot(ipp, normal)));
    put("0028|1052", ds(options.rescale_intercept));
    put("0028|1053", ds(options.rescale_slope));
    put("0028|1054", "HU");

    auto slice = ShortSlice::New();
    ShortSlice::SizeType size;
    size[0] = static_cast<itk::SizeValueType>(g.size[0]);
    size[1] = static_cast<itk::SizeValueType>(g.size[1]);
    slice->SetRegions(ShortSlice::RegionType(size));
    ShortSlice::SpacingType sp;
    sp[0] = g.spacing[0];
    sp[1] = g.spacing[1];
    slice->SetSpacing(sp);
    slice->Allocate();
    std::copy(hu.begin() + static_cast<std::ptrdiff_t>(k * plane),
              hu.begin() + static_cast<std::ptrdiff_t>((k + 1) * plane), slice->GetBufferPointer());
    slice->SetMetaDataDictionary(dict);

    char name[32];
    std::snprintf(name, sizeof name, "slice_%04lld.dcm", static_cast<long long>(k));
    const std::string file = (fs::path(dir) / name).string();
    try {
      auto io = itk::GDCMImageIO::New();
      io->KeepOriginalUIDOn();
      io->SetMetaDataDictionary(dict);
      auto writer = itk::ImageFileWriter<ShortSlice>::New();
      writer->SetImageIO(io);
      writer->SetFileName(file);
      writer->SetInput(slice);
      writer->Update();
    } catch (const itk::ExceptionObject& e) {
      throw VisionError(what + ": writing " + file + ": " + describe(e));
    }
  }
}

#else  // no ITK in this build

namespace {
[[noreturn]] void no_itk(const std::string& what) {
  throw VisionError(what +
                    ": this build has no ITK (install libinsighttoolkit5-dev and re-run "
                    "cmake): only MetaImage (.mhd/.mha) can be read and written");
}
}  // namespace

bool itk_available() { return false; }
Volume itk_read_file(const std::string& path) { no_itk(path); }
std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir) { no_itk(dir); }
Volume itk_read_dicom_series(const std::string& dir, const std::string&) { no_itk(dir); }
void itk_write_file(const Volume&, const std::string& path) { no_itk(path); }
void write_dicom_series(const Volume&, const std::string& dir, const DicomSeriesWriteOptions&) {
  no_itk(dir);
}

#endif

}  // namespace r1::vision
