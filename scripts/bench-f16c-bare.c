// The physical limit of the FP16 sweep on this machine: the CPU's conversion instruction alone
// (cf16c_round_patterns from Sources/CF16C, the sweep's FP16 reference) over all 2^32 float32
// patterns, on every core, in the sweep's chunks of 2^20 and blocks of 2^12 results (16 KB, in
// the L1 cache). Nothing else: no rounding algorithm, no comparison.
//
// Built and run by scripts/bench-fp-sweep.sh:
//   cc -O2 -pthread -I Sources/CF16C/include scripts/bench-f16c-bare.c Sources/CF16C/CF16C.c
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "CF16C.h"

enum { chunk = 1 << 20, block = 1 << 12 };
static const uint64_t patterns = 1ull << 32;
static atomic_uint_fast64_t next_chunk;

static void *worker(void *checksum) {
    static _Thread_local int32_t results[block];
    uint32_t folded = 0;
    for (;;) {
        uint64_t c = atomic_fetch_add(&next_chunk, 1);
        if (c * chunk >= patterns) break;
        for (uint64_t first = c * chunk; first < (c + 1) * chunk; first += block) {
            cf16c_round_patterns((uint32_t)first, block, results);
            folded ^= (uint32_t)results[(first / block) % block];  // one read a block keeps the stores
        }
    }
    *(uint32_t *)checksum = folded;
    return NULL;
}

int main(void) {
    if (!cf16c_available()) {
        fprintf(stderr, "this CPU has no F16C: no bare vcvtps2ph loop to time\n");
        return 1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > 256) cores = 256;
    pthread_t threads[256];
    uint32_t checksums[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < cores; i++) pthread_create(&threads[i], NULL, worker, &checksums[i]);
    uint32_t checksum = 0;
    for (long i = 0; i < cores; i++) {
        pthread_join(threads[i], NULL);
        checksum ^= checksums[i];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%.6f %ld %.4e %08x\n", seconds, cores, (double)patterns / seconds, checksum);
    return 0;
}
