/* FNV-1a 64 over bytes, a little-endian 64-bit word at a time, the bytes past the last whole word
 * one at a time: the contract's weights checksum (docs/embedding-worker.md). It is sequential, so
 * Python would take seconds for a ResNet-50; the worker builds this file with the C compiler when
 * it finds one and loads it with ctypes. */
#include <stdint.h>
#include <string.h>

uint64_t comcl_fnv1a64(uint64_t h, const unsigned char *bytes, uint64_t count) {
    const uint64_t prime = 0x00000100000001B3ULL;
    uint64_t words = count / 8;
    for (uint64_t i = 0; i < words; i++) {
        uint64_t w;
        memcpy(&w, bytes + 8 * i, 8); /* little-endian hosts only (x86-64, arm64) */
        h = (h ^ w) * prime;
    }
    for (uint64_t i = 8 * words; i < count; i++) h = (h ^ bytes[i]) * prime;
    return h;
}
