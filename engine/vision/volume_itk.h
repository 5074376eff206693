#pragma once

#include <string>
#include <vector>

#include "engine/vision/volume.h"

namespace r1::vision {

// The ITK-backed readers and writers (Debian's libinsighttoolkit5-dev: MetaIO, GDCM, NIfTI).
// In a build without ITK each of these throws VisionError saying so; itk_available() tells.
bool itk_available();

// One file through ITK: DICOM (one slice or a multi-frame file), NIfTI (.nii, .nii.gz) or
// MetaImage (.mhd, .mha — read_volume() uses our own reader; this one serves cross-checks).
// DICOM voxels are in HU (rescale slope and intercept applied by GDCM). Integer data whose values
// all fit in int16 comes back as int16, anything else as float32.
Volume itk_read_file(const std::string& path);

struct DicomSeriesInfo {
  std::string uid;  // Series Instance UID (with ITK's series details appended when they differ)
  size_t files = 0;
};
// The DICOM series in a folder (not recursive). Throws VisionError for a missing or empty folder.
std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir);

// A DICOM series from a folder: slices sorted by ImagePositionPatient along the slice normal
// (GDCM's IPP sorter), slice spacing from the positions, HU through each slice's rescale slope
// and intercept. With several series in the folder `series_uid` must name one (the error lists
// them). Non-uniform slice spacing (missing slices) is reported in Volume::warnings.
Volume itk_read_dicom_series(const std::string& dir, const std::string& series_uid = {});

// NIfTI (.nii, .nii.gz) or MetaImage (.mhd, .mha) through ITK's writers.
void itk_write_file(const Volume& volume, const std::string& path);

struct DicomSeriesWriteOptions {
  double rescale_intercept = -1024.0;  // stored = (HU - intercept) / slope, as int16
  double rescale_slope = 1.0;
  std::string study_uid;   // generated under 2.25 when empty
  std::string series_uid;  // generated under 2.25 when empty
  std::string patient_id = "R1-PHANTOM";
};
// Writes one CT slice per file (<dir>/slice_0000.dcm, ...) with ImagePositionPatient,
// ImageOrientationPatient, PixelSpacing and rescale tags: enough for any DICOM viewer, and for
// tests of the series reader. Int16 volumes only.
void write_dicom_series(const Volume& volume, const std::string& dir,
                        const DicomSeriesWriteOptions& options = {});

}  // namespace r1::vision
