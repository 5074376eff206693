#pragma once

#include <string>

#include "engine/vision/volume.h"
#include "engine/vision/volume_image.h"

namespace r1::vision {

enum class VolumeFormat { MetaImage, Nifti, DicomFile, DicomFolder, Image, ImageFolder };
const char* to_string(VolumeFormat f);

// By the path: .mhd/.mha MetaImage; .nii/.nii.gz NIfTI; .dcm/.dicom/.ima, or any file with the
// DICM preamble, one DICOM file; .png/.jpg/.jpeg one 2D image. A folder is a stack of 2D slices
// when is_image_folder() says so, a DICOM series otherwise. Throws VisionError for a missing path
// or an unknown format.
VolumeFormat detect_volume_format(const std::string& path);

// A folder holding PNG/JPEG files and no DICOM file (by extension, or the DICM preamble of the
// files that are not images): a DICOM series with a stray preview.png stays a DICOM series. Files
// are opened only when the folder holds images at all.
bool is_image_folder(const std::string& dir);

struct VolumeReadOptions {
  std::string dicom_series_uid;  // which series, when a DICOM folder holds several
  ImageStackOptions image;       // spacing, origin, rescale of PNG/JPEG slices (volume_image.h)
};

// Reads any supported volume. MetaImage goes through our own reader (no ITK needed), PNG/JPEG
// through OpenCV (volume_image.h), the others through ITK (volume_itk.h); without the library
// they throw VisionError saying so.
Volume read_volume(const std::string& path, const VolumeReadOptions& options = {});

// The geometry alone, for scan lists: MetaImage from its header, PNG/JPEG from the first slice;
// DICOM and NIfTI read the whole volume.
VolumeGeometry read_volume_geometry(const std::string& path,
                                    const VolumeReadOptions& options = {});

// Writes .mhd/.mha (our writer) or .nii/.nii.gz (ITK).
void write_volume(const Volume& volume, const std::string& path);

}  // namespace r1::vision
