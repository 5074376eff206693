#pragma once

#include <string>

#include "engine/vision/volume.h"

namespace r1::vision {

enum class VolumeFormat { MetaImage, Nifti, DicomFile, DicomFolder };
const char* to_string(VolumeFormat f);

// By the path: a folder is a DICOM series; .mhd/.mha MetaImage; .nii/.nii.gz NIfTI;
// .dcm/.dicom/.ima, or any file with the DICM preamble, one DICOM file. Throws VisionError for a
// missing path or an unknown format.
VolumeFormat detect_volume_format(const std::string& path);

struct VolumeReadOptions {
  std::string dicom_series_uid;  // which series, when a DICOM folder holds several
};

// Reads any supported volume. MetaImage goes through our own reader (no ITK needed), the others
// through ITK (volume_itk.h); without ITK they throw VisionError saying so.
Volume read_volume(const std::string& path, const VolumeReadOptions& options = {});

// Writes .mhd/.mha (our writer) or .nii/.nii.gz (ITK).
void write_volume(const Volume& volume, const std::string& path);

}  // namespace r1::vision
