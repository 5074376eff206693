#pragma once

#include <cstdint>
#include <string>

#include "engine/vision/volume.h"

namespace r1::vision {

// MetaImage (.mhd + .raw/.zraw, or a single .mha), the format of LUNA16, read and written here
// without ITK so that machines without ITK (the accelerator machine) still read LUNA16 and
// phantom folders. The test suite checks both directions against ITK's MetaImageIO.
//
// Read: NDims 2 or 3, one channel, ElementType MET_CHAR/UCHAR/SHORT/USHORT/INT/UINT/FLOAT/DOUBLE,
// either byte order, raw or zlib-compressed data, ElementDataFile = a file beside the header or
// LOCAL, HeaderSize (including -1), ElementSpacing (or ElementSize), Offset/Origin/Position and
// TransformMatrix/Rotation/Orientation. TransformMatrix lists the direction cosines of index axis
// 0, then axis 1, then axis 2 (i.e. D column by column).
struct MetaImageHeader {
  VolumeGeometry geometry;
  int ndims = 3;
  std::string element_type;  // e.g. "MET_SHORT"
  bool msb = false;          // big-endian data
  bool compressed = false;
  int64_t compressed_size = -1;  // CompressedDataSize, -1 when absent
  int64_t header_size = 0;       // HeaderSize: bytes to skip in the data file; -1 = data at its end
  std::string data_file;         // absolute or relative to the header's folder; "LOCAL" for .mha
  int64_t local_data_offset = 0;  // for LOCAL: where the data starts in the header file
};

// Parses the header only (cheap: a scan list reads these). Throws VisionError naming the file and
// the key on anything malformed or unsupported.
MetaImageHeader read_metaimage_header(const std::string& path);

// Reads header and voxels. Integer data whose values all fit in int16 is kept as int16, other
// data becomes float32. Throws VisionError naming the file and the reason (missing data file,
// data file of the wrong size, unsupported element type, corrupt compressed data, ...).
Volume read_metaimage(const std::string& path);

// Writes `path` (.mhd) and its data file beside it (<stem>.raw, or <stem>.zraw when compressed;
// MET_SHORT for int16 voxels, MET_FLOAT for float32, little-endian), each through a temporary
// file renamed into place. A .mha path writes one file with the data LOCAL.
void write_metaimage(const Volume& volume, const std::string& path, bool compress = false);

}  // namespace r1::vision
