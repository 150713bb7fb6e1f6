#include "CLoupeSupport.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define LOUPE_FTZ_DAZ 0x8040u   /* bit 15 flush-to-zero, bit 6 denormals-are-zero */

void loupe_flush_denormals(void) { _mm_setcsr(_mm_getcsr() | LOUPE_FTZ_DAZ); }
int loupe_flushes_denormals(void) { return (_mm_getcsr() & LOUPE_FTZ_DAZ) == LOUPE_FTZ_DAZ; }

#elif defined(__aarch64__)
#include <stdint.h>
void loupe_flush_denormals(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (1ull << 24);
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
int loupe_flushes_denormals(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr >> 24) & 1;
}
#else
void loupe_flush_denormals(void) {}
int loupe_flushes_denormals(void) { return 0; }
#endif
