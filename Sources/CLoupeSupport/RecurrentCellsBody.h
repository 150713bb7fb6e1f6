// The elementwise part of the recurrent cells, written once over 16-float vectors and compiled
// twice by RecurrentCells.c: for AVX-512 (ATTR = the target attribute, SUFFIX = avx512) and for
// the baseline (empty ATTR, SUFFIX = generic). Included only there; not a public header.
//
// Every function handles `rows` examples of H units; per-unit arrays ([rows][H]) are contiguous,
// gate arrays are [rows][G·H] with gate g in columns g·H ..< (g+1)·H. Units are taken 16 at a
// time, the last partial group through a zero-padded copy, so every element goes through the same
// vector code wherever it sits.

#define FN(name) CELL_CONCAT(name, SUFFIX)

// exp(x) = 2ⁿ · eʳ with x = n·ln2 + r, |r| ≤ ln2/2, eʳ − 1 by its degree-7 Taylor polynomial (the
// algorithm of LoupeCore's VectorMath, so the fused cells and the composed ops agree to rounding).
ATTR static inline __attribute__((always_inline)) v16 FN(expm1_parts)(v16 x, v16 *scale) {
    const v16 magic = splat(12582912.0f);
    v16 clamped = __builtin_elementwise_min(__builtin_elementwise_max(x, splat(-87.3f)), splat(88.3f));
    v16 shifted = clamped * 1.44269504f + magic;
    v16 n = shifted - magic;
    v16 r = (clamped - n * 0.693145751953125f) - n * 1.428606765330187045e-6f;
    i16 bits = (i16)shifted - 0x4B400000;
    *scale = (v16)((bits + 127) << 23);
    v16 p = splat(1.0f / 5040);
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    return p * r;
}

ATTR static inline __attribute__((always_inline)) v16 FN(vsigmoid)(v16 x) {
    v16 scale;
    v16 q = FN(expm1_parts)(-x, &scale);
    return 1.0f / (1.0f + (scale * q + scale));
}

// tanh(x) = expm1(2x) / (expm1(2x) + 2): accurate near 0, exactly ±1 beyond |x| = 9.
ATTR static inline __attribute__((always_inline)) v16 FN(vtanh)(v16 x) {
    v16 scale;
    v16 c = __builtin_elementwise_min(__builtin_elementwise_max(x, splat(-9.0f)), splat(9.0f));
    v16 q = FN(expm1_parts)(c + c, &scale);
    v16 e = scale * q + (scale - 1.0f);
    return e / (e + 2.0f);
}

// Loads and stores of `count` ≤ 16 floats (a whole vector when count is 16).
ATTR static inline __attribute__((always_inline)) v16 FN(load)(const float *p, int count) {
    v16 v = splat(0.0f);
    if (count == 16) memcpy(&v, p, sizeof v);  // a constant size: one vector load, no call
    else memcpy(&v, p, (size_t)count * sizeof(float));
    return v;
}
ATTR static inline __attribute__((always_inline)) void FN(store)(float *p, v16 v, int count) {
    if (count == 16) memcpy(p, &v, sizeof v);
    else memcpy(p, &v, (size_t)count * sizeof(float));
}

ATTR static void FN(lstm_forward)(int rows, int H, float *gates, const float *cPrev, float *c, float *tanhC,
                                  float *h, float forgetBias) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 4 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 i = FN(vsigmoid)(FN(load)(g + j, n));
            v16 f = FN(vsigmoid)(FN(load)(g + H + j, n) + forgetBias);
            v16 gg = FN(vtanh)(FN(load)(g + 2 * H + j, n));
            v16 o = FN(vsigmoid)(FN(load)(g + 3 * H + j, n));
            v16 cn = f * FN(load)(cPrev + u + j, n) + i * gg;
            v16 tc = FN(vtanh)(cn);
            FN(store)(g + j, i, n);
            FN(store)(g + H + j, f, n);
            FN(store)(g + 2 * H + j, gg, n);
            FN(store)(g + 3 * H + j, o, n);
            FN(store)(c + u + j, cn, n);
            FN(store)(tanhC + u + j, tc, n);
            FN(store)(h + u + j, o * tc, n);
        }
    }
}

ATTR static void FN(lstm_backward)(int rows, int H, float *gates, const float *cPrev, const float *tanhC,
                                   const float *dh, float *dc) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 4 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 i = FN(load)(g + j, n), f = FN(load)(g + H + j, n);
            v16 gg = FN(load)(g + 2 * H + j, n), o = FN(load)(g + 3 * H + j, n);
            v16 tc = FN(load)(tanhC + u + j, n), d = FN(load)(dh + u + j, n);
            v16 dcc = FN(load)(dc + u + j, n) + d * o * (1.0f - tc * tc);
            v16 dzi = dcc * gg * i * (1.0f - i);
            v16 dzf = dcc * FN(load)(cPrev + u + j, n) * f * (1.0f - f);
            v16 dzg = dcc * i * (1.0f - gg * gg);
            v16 dzo = d * tc * o * (1.0f - o);
            FN(store)(g + j, dzi, n);
            FN(store)(g + H + j, dzf, n);
            FN(store)(g + 2 * H + j, dzg, n);
            FN(store)(g + 3 * H + j, dzo, n);
            FN(store)(dc + u + j, dcc * f, n);
        }
    }
}

ATTR static void FN(rnn_forward)(int rows, int H, const float *z, float *h) {
    long total = (long)rows * H;
    for (long j = 0; j < total; j += 16) {
        int n = total - j < 16 ? (int)(total - j) : 16;
        FN(store)(h + j, FN(vtanh)(FN(load)(z + j, n)), n);
    }
}

ATTR static void FN(rnn_backward)(int rows, int H, const float *h, const float *dh, float *dz) {
    long total = (long)rows * H;
    for (long j = 0; j < total; j += 16) {
        int n = total - j < 16 ? (int)(total - j) : 16;
        v16 hv = FN(load)(h + j, n);
        FN(store)(dz + j, FN(load)(dh + j, n) * (1.0f - hv * hv), n);
    }
}

ATTR static void FN(gru_forward)(int rows, int H, float *gates, const float *recurrent, const float *hPrev, float *h) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 3 * H;
        const float *q = recurrent + row * 3 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 r = FN(vsigmoid)(FN(load)(g + j, n) + FN(load)(q + j, n));
            v16 z = FN(vsigmoid)(FN(load)(g + H + j, n) + FN(load)(q + H + j, n));
            v16 nn = FN(vtanh)(FN(load)(g + 2 * H + j, n) + r * FN(load)(q + 2 * H + j, n));
            FN(store)(g + j, r, n);
            FN(store)(g + H + j, z, n);
            FN(store)(g + 2 * H + j, nn, n);
            FN(store)(h + u + j, (1.0f - z) * nn + z * FN(load)(hPrev + u + j, n), n);
        }
    }
}

ATTR static void FN(gru_backward)(int rows, int H, float *gates, float *recurrent, const float *hPrev,
                                  const float *dh, float *dhPrev) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 3 * H;
        float *q = recurrent + row * 3 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 r = FN(load)(g + j, n), z = FN(load)(g + H + j, n), nn = FN(load)(g + 2 * H + j, n);
            v16 d = FN(load)(dh + u + j, n), hp = FN(load)(hPrev + u + j, n);
            v16 dan = d * (1.0f - z) * (1.0f - nn * nn);
            v16 dar = dan * FN(load)(q + 2 * H + j, n) * r * (1.0f - r);
            v16 daz = d * (hp - nn) * z * (1.0f - z);
            FN(store)(g + j, dar, n);
            FN(store)(g + H + j, daz, n);
            FN(store)(g + 2 * H + j, dan, n);
            FN(store)(q + j, dar, n);
            FN(store)(q + H + j, daz, n);
            FN(store)(q + 2 * H + j, dan * r, n);
            FN(store)(dhPrev + u + j, d * z, n);
        }
    }
}

ATTR static void FN(gru_tf1_gates)(int rows, int H, float *gates, const float *hPrev, float *rh) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 3 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 r = FN(vsigmoid)(FN(load)(g + j, n));
            FN(store)(g + j, r, n);
            FN(store)(g + H + j, FN(vsigmoid)(FN(load)(g + H + j, n)), n);
            FN(store)(rh + u + j, r * FN(load)(hPrev + u + j, n), n);
        }
    }
}

ATTR static void FN(gru_tf1_candidate)(int rows, int H, float *gates, const float *hPrev, float *h) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 3 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 c = FN(vtanh)(FN(load)(g + 2 * H + j, n));
            v16 z = FN(load)(g + H + j, n);
            FN(store)(g + 2 * H + j, c, n);
            FN(store)(h + u + j, z * FN(load)(hPrev + u + j, n) + (1.0f - z) * c, n);
        }
    }
}

ATTR static void FN(gru_tf1_backward_candidate)(int rows, int H, float *gates, const float *hPrev, const float *dh,
                                                float *dhPrev) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 3 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 z = FN(load)(g + H + j, n), c = FN(load)(g + 2 * H + j, n);
            v16 d = FN(load)(dh + u + j, n);
            FN(store)(g + H + j, d * (FN(load)(hPrev + u + j, n) - c) * z * (1.0f - z), n);
            FN(store)(g + 2 * H + j, d * (1.0f - z) * (1.0f - c * c), n);
            FN(store)(dhPrev + u + j, d * z, n);
        }
    }
}

ATTR static void FN(gru_tf1_backward_reset)(int rows, int H, float *gates, const float *hPrev, const float *dRH,
                                            float *dhPrev) {
    for (long row = 0; row < rows; row++) {
        float *g = gates + row * 3 * H;
        long u = row * H;
        for (int j = 0; j < H; j += 16) {
            int n = H - j < 16 ? H - j : 16;
            v16 r = FN(load)(g + j, n), d = FN(load)(dRH + u + j, n);
            FN(store)(g + j, d * FN(load)(hPrev + u + j, n) * r * (1.0f - r), n);
            FN(store)(dhPrev + u + j, FN(load)(dhPrev + u + j, n) + d * r, n);
        }
    }
}

#undef FN
