// The elementwise part of the recurrent cells (see CLoupeSupport.h): gate non-linearities and
// state updates in one pass over each step's buffers. The products around them are BLAS calls
// made from Swift (LoupeCore/Kernels/RecurrentSequence.swift).
//
// Why C: the cells spend their time in sigmoid and tanh, which need the 16-lane AVX-512 code that
// Swift cannot select at run time. The bodies live in RecurrentCellsBody.h, compiled here twice:
// for AVX-512 and for the baseline; each entry point picks one when the CPU has AVX-512.

#include "CLoupeSupport.h"
#include <string.h>

// The baseline copy passes 64-byte vectors between always-inlined helpers only, so the ABI
// difference clang warns about never reaches a call.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t i16 __attribute__((vector_size(64), aligned(4)));
#define splat(x) ((v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x})
#define CELL_CONCAT_(a, b) a##_##b
#define CELL_CONCAT(a, b) CELL_CONCAT_(a, b)

#define ATTR
#define SUFFIX generic
#include "RecurrentCellsBody.h"
#undef ATTR
#undef SUFFIX

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define ATTR __attribute__((target("avx512f,fma")))
#define SUFFIX avx512
#include "RecurrentCellsBody.h"
#undef ATTR
#undef SUFFIX

static int has_avx512(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return known;
}
#define DISPATCH(name, ...) \
    do { if (has_avx512()) name##_avx512(__VA_ARGS__); else name##_generic(__VA_ARGS__); } while (0)
#else
#define DISPATCH(name, ...) name##_generic(__VA_ARGS__)
#endif

void loupe_lstm_forward(int rows, int H, float *gates, const float *cPrev, float *c, float *tanhC, float *h,
                        float forgetBias) {
    DISPATCH(lstm_forward, rows, H, gates, cPrev, c, tanhC, h, forgetBias);
}
void loupe_lstm_backward(int rows, int H, float *gates, const float *cPrev, const float *tanhC, const float *dh,
                         float *dc) {
    DISPATCH(lstm_backward, rows, H, gates, cPrev, tanhC, dh, dc);
}
void loupe_rnn_forward(int rows, int H, const float *z, float *h) { DISPATCH(rnn_forward, rows, H, z, h); }
void loupe_rnn_backward(int rows, int H, const float *h, const float *dh, float *dz) {
    DISPATCH(rnn_backward, rows, H, h, dh, dz);
}
void loupe_gru_forward(int rows, int H, float *gates, const float *recurrent, const float *hPrev, float *h) {
    DISPATCH(gru_forward, rows, H, gates, recurrent, hPrev, h);
}
void loupe_gru_backward(int rows, int H, float *gates, float *recurrent, const float *hPrev, const float *dh,
                        float *dhPrev) {
    DISPATCH(gru_backward, rows, H, gates, recurrent, hPrev, dh, dhPrev);
}
void loupe_gru_tf1_gates(int rows, int H, float *gates, const float *hPrev, float *rh) {
    DISPATCH(gru_tf1_gates, rows, H, gates, hPrev, rh);
}
void loupe_gru_tf1_candidate(int rows, int H, float *gates, const float *hPrev, float *h) {
    DISPATCH(gru_tf1_candidate, rows, H, gates, hPrev, h);
}
void loupe_gru_tf1_backward_candidate(int rows, int H, float *gates, const float *hPrev, const float *dh,
                                      float *dhPrev) {
    DISPATCH(gru_tf1_backward_candidate, rows, H, gates, hPrev, dh, dhPrev);
}
void loupe_gru_tf1_backward_reset(int rows, int H, float *gates, const float *hPrev, const float *dRH,
                                  float *dhPrev) {
    DISPATCH(gru_tf1_backward_reset, rows, H, gates, hPrev, dRH, dhPrev);
}
