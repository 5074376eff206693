#include "engine/vision/volume_io.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/vision/metaimage.h"
#include "engine/vision/vision_error.h"
#include "engine/vision/volume_itk.h"

namespace r1::vision {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& name, const char* suffix) {
  const size_t n = std::strlen(suffix);
  if (name.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::tolower(static_cast<unsigned char>(name[name.size() - n + i])) != suffix[i]) {
      return false;
    }
  }
  return true;
}

bool has_dicom_preamble(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[132];
  return in.read(buf, sizeof buf) && std::memcmp(buf + 128, "DICM", 4) == 0;
}

bool is_dicom_name(const std::string& name) {
  return ends_with(name, ".dcm") || ends_with(name, ".dicom") || ends_with(name, ".ima");
}

}  // namespace

const char* to_string(VolumeFormat f) {
  switch (f) {
    case VolumeFormat::MetaImage:
      return "MetaImage";
    case VolumeFormat::Nifti:
      return "NIfTI";
    case VolumeFormat::DicomFile:
      return "DICOM file";
    case VolumeFormat::DicomFolder:
      return "DICOM folder";
    case VolumeFormat::Image:
      return "PNG/JPEG image";
    case VolumeFormat::ImageFolder:
      return "PNG/JPEG folder";
  }
  return "?";
}

bool is_image_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  bool images = false;
  std::vector<fs::path> others;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    std::error_code fe;
    if (name.empty() || name[0] == '.' || !e.is_regular_file(fe)) continue;
    if (is_image_file_name(name)) {
      images = true;
    } else if (is_dicom_name(name)) {
      return false;
    } else if (name != kImageFolderSidecar) {
      others.push_back(e.path());
    }
  }
  if (!images) return false;
  for (const auto& p : others) {
    if (has_dicom_preamble(p.string())) return false;
  }
  return true;
}

VolumeFormat detect_volume_format(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw VisionError("volume " + path + ": no such file or folder");
  if (fs::is_directory(path, ec)) {
    return is_image_folder(path) ? VolumeFormat::ImageFolder : VolumeFormat::DicomFolder;
  }
  const std::string name = fs::path(path).filename().string();
  if (ends_with(name, ".mhd") || ends_with(name, ".mha")) return VolumeFormat::MetaImage;
  if (ends_with(name, ".nii") || ends_with(name, ".nii.gz")) return VolumeFormat::Nifti;
  if (is_image_file_name(name)) return VolumeFormat::Image;
  if (is_dicom_name(name) || has_dicom_preamble(path)) return VolumeFormat::DicomFile;
  throw VisionError("volume " + path +
                    ": unknown format (expected .mhd, .mha, .nii, .nii.gz, a DICOM file, "
                    ".png, .jpg, .jpeg, or a folder holding a DICOM series or PNG/JPEG slices)");
}

Volume read_volume(const std::string& path, const VolumeReadOptions& options) {
  switch (detect_volume_format(path)) {
    case VolumeFormat::MetaImage:
      return read_metaimage(path);
    case VolumeFormat::Nifti:
    case VolumeFormat::DicomFile:
      return itk_read_file(path);
    case VolumeFormat::DicomFolder:
      return itk_read_dicom_series(path, options.dicom_series_uid);
    case VolumeFormat::Image:
      return read_image(path, options.image);
    case VolumeFormat::ImageFolder:
      return read_image_folder(path, options.image);
  }
  throw VisionError("volume " + path + ": unknown format");
}

VolumeGeometry read_volume_geometry(const std::string& path, const VolumeReadOptions& options) {
  switch (detect_volume_format(path)) {
    case VolumeFormat::MetaImage:
      return read_metaimage_header(path).geometry;
    case VolumeFormat::Image:
    case VolumeFormat::ImageFolder:
      return read_image_geometry(path, options.image);
    default:
      return read_volume(path, options).geometry;
  }
}

void write_volume(const Volume& volume, const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  if (ends_with(name, ".mhd") || ends_with(name, ".mha")) {
    write_metaimage(volume, path);
  } else if (ends_with(name, ".nii") || ends_with(name, ".nii.gz")) {
    itk_write_file(volume, path);
  } else {
    throw VisionError("volume " + path +
                      ": cannot write this format (use .mhd, .mha, .nii or "
                      ".nii.gz)");
  }
}

}  // namespace r1::vision
