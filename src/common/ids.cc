#include "common/ids.h"

#include <random>

namespace cairn {

namespace {
std::mt19937_64& ThreadRng() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return rng;
}
}  // namespace

uint64_t RandomU64() { return ThreadRng()(); }

std::string NewUuidHex() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = RandomU64(), lo = RandomU64();
  // uuid4 layout: version nibble 4, variant bits 10xx.
  hi = (hi & ~0xF000ULL) | 0x4000ULL;
  lo = (lo & ~(0xC000000000000000ULL)) | 0x8000000000000000ULL;
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) out[i] = kHex[(hi >> (60 - 4 * i)) & 0xF];
  for (int i = 0; i < 16; ++i) out[16 + i] = kHex[(lo >> (60 - 4 * i)) & 0xF];
  return out;
}

}  // namespace cairn
