#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "engine/vision/volume.h"

namespace r1::vision {

// 2D PNG and JPEG images as volumes, through OpenCV's imgcodecs (Debian's
// libopencv-imgcodecs-dev). In a build without OpenCV the readers throw VisionError saying so
// ("built without OpenCV"); opencv_available() tells.
bool opencv_available();

// Intensities: 8-bit and 16-bit values are kept as stored (0..255, 0..65535): a PNG has no HU.
// A colour image becomes gray (0.299 R + 0.587 G + 0.114 B, rounded; alpha ignored, and noted in
// Volume::warnings). With a rescale, voxel = slope * stored + intercept (e.g. intercept -1024 for
// slices saved as HU + 1024). The result is int16 when every voxel is an integer that fits,
// float32 otherwise (16-bit values above 32767, or a fractional slope or intercept).
//
// Geometry: x along the image columns, y along its rows, z along the slices; spacing 1 mm, origin
// 0, direction identity unless the sidecar or the options give them.
//
// Sidecar: a text file of MetaImage-style "Key = values" lines ('#' starts a comment), read when
// present: <folder>/volume.txt for a folder, <image>.txt (e.g. scan.png.txt) for one image.
// Keys: ElementSpacing (x y z, or x y), Offset (x y z), TransformMatrix (9 numbers, index axis
// 0's direction cosines first, as in MetaImage), RescaleSlope, RescaleIntercept. Any other key
// is an error naming the file and line.
struct ImageStackOptions {
  // Each set field wins over the sidecar's value.
  std::optional<std::array<double, 3>> spacing;    // mm between voxel centres along x, y, z
  std::optional<Vec3> origin;                      // world position of voxel (0, 0, 0)
  std::optional<std::array<double, 9>> direction;  // D, row-major, as VolumeGeometry
  std::optional<double> rescale_slope;
  std::optional<double> rescale_intercept;
  bool read_sidecar = true;
};

// The sidecar file name of a folder of slices, or of one image.
inline constexpr const char* kImageFolderSidecar = "volume.txt";

// .png, .jpg or .jpeg (any case), by name only.
bool is_image_file_name(const std::string& name);
// "Natural" file-name order: runs of digits compare as numbers (slice_2 < slice_10, and
// slice_02 == slice_2 up to a final plain comparison), everything else byte by byte.
bool natural_less(const std::string& a, const std::string& b);
// The PNG/JPEG files of a folder (not recursive; hidden files skipped) in natural order of their
// names. Throws VisionError for a missing folder; an empty list when it holds none.
std::vector<std::string> list_image_files(const std::string& dir);

// One PNG or JPEG as a one-slice volume (size x, y, 1).
Volume read_image(const std::string& path, const ImageStackOptions& options = {});
// A folder of same-size PNG/JPEG slices in natural file-name order (slice z = the z-th file).
Volume read_image_folder(const std::string& dir, const ImageStackOptions& options = {});
// Slices in the order given (no sidecar: only `options`). All slices must have the same size and
// bit depth; errors name both files.
Volume read_image_stack(const std::vector<std::string>& files,
                        const ImageStackOptions& options = {});

// The geometry read_image() / read_image_folder() would give, decoding only the first slice.
VolumeGeometry read_image_geometry(const std::string& path, const ImageStackOptions& options = {});

}  // namespace r1::vision
