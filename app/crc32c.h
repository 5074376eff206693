#pragma once

#include <cstddef>
#include <cstdint>

namespace r1::app {

// CRC-32C (Castagnoli), as TFRecord framing needs it. Debian 12 packages no crc32c library
// (libcrc32c-dev does not exist there), so this is a small table-driven version of our own:
// a byte at a time, about 0.5 GB/s, far more than exporting metrics needs.
// Chaining: crc32c(b, nb, crc32c(a, na)) == crc32c of a followed by b.
// Check value: crc32c("123456789", 9) == 0xE3069283.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace r1::app
