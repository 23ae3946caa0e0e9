#ifndef CF16C_H
#define CF16C_H

#include <stddef.h>
#include <stdint.h>

// The CPU's own float32 -> FP16 conversion (the F16C instruction vcvtps2ph), for checking the
// lesson's bit-level rounding against hardware. The conversion functions are compiled with a
// target attribute, so the rest of the program keeps the baseline instruction set and runs on
// any x86-64; call them only after cf16c_available() has said yes.

/// 1 when this CPU runs vcvtps2ph (CPUID reports F16C, and AVX with the OS saving its
/// registers); 0 otherwise, and always 0 on processors other than x86.
int cf16c_available(void);

/// 1 when this CPU runs AVX2 (and the OS saves its registers), for the sweep's AVX2 lanes;
/// 0 otherwise, and always 0 on processors other than x86.
int cf16c_avx2_available(void);

/// Rounds the float32 bit patterns first, first + 1, ..., first + count - 1 (wrapping past
/// 0xffffffff to 0) to FP16 with vcvtps2ph in round-to-nearest-even, and stores each 16-bit
/// result zero-extended in out[0 ..< count]. Eight patterns per instruction; count need not be
/// a multiple of eight.
void cf16c_round_patterns(uint32_t first, size_t count, int32_t *out);

#endif
