#ifndef CLOUPE_SUPPORT_H
#define CLOUPE_SUPPORT_H

/// Sets flush-to-zero and denormals-are-zero for the calling thread (x86 MXCSR, AArch64 FPCR.FZ).
/// Denormal floats slow training down as weights and gradients shrink (MEASURED.md).
void loupe_flush_denormals(void);

/// 1 when the calling thread flushes denormals to zero, else 0.
int loupe_flushes_denormals(void);

/// OpenBLAS's kernel set when the program loaded, and after Loupe's selection ("" for other
/// BLAS libraries or platforms). The selection itself runs before main (BLASSelection.c).
const char *loupe_blas_initial_core(void);
const char *loupe_blas_core(void);

#endif
