#include "CF16C.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

int cf16c_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}

int cf16c_avx2_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// The rounding is the instruction's immediate (round to nearest even), not MXCSR's mode. DAZ
// would flush float32 subnormal inputs to zero, which FP16 rounds them to anyway.
__attribute__((target("avx,f16c")))
void cf16c_round_patterns(uint32_t first, size_t count, int32_t *out) {
    // Patterns in two halves of four: adding to 256-bit integer lanes would need AVX2.
    __m128i low = _mm_add_epi32(_mm_set1_epi32((int)first), _mm_setr_epi32(0, 1, 2, 3));
    __m128i high = _mm_add_epi32(low, _mm_set1_epi32(4));
    const __m128i eight = _mm_set1_epi32(8);
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 floats = _mm256_castsi256_ps(_mm256_setr_m128i(low, high));
        __m128i halves = _mm256_cvtps_ph(floats, _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(out + i), _mm_unpacklo_epi16(halves, zero));
        _mm_storeu_si128((__m128i *)(out + i + 4), _mm_unpackhi_epi16(halves, zero));
        low = _mm_add_epi32(low, eight);
        high = _mm_add_epi32(high, eight);
    }
    for (; i < count; i++) {
        uint32_t bits = first + (uint32_t)i;
        __m128 one = _mm_castsi128_ps(_mm_cvtsi32_si128((int)bits));
        out[i] = (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(one, _MM_FROUND_TO_NEAREST_INT), 0);
    }
}

#else

int cf16c_available(void) { return 0; }

int cf16c_avx2_available(void) { return 0; }

void cf16c_round_patterns(uint32_t first, size_t count, int32_t *out) {
    (void)first; (void)count; (void)out;
}

#endif
