// Direct stride-1 convolution kernels for x86-64 CPUs with AVX-512 (see CLoupeSupport.h).
//
// Why C: Swift cannot compile one function for AVX-512 and pick it at run time (its SIMD types
// compile to the baseline SSE here), and im2col + GEMM multiplies every padding zero (16% of
// conv2's work at 14x14 with a 5x5 SAME window). These kernels read each input row in place:
// with the input padded left and right, row `iy` of a kernel row `ky` is an overlapping matrix
// A[p][j] = row[(ox + p)·C + j], j over kx·C + c, so one kernel row is a GEMM against
// filter[ky] viewed as [KW·C, OC], with no copy. Rows that fall in the top or bottom padding
// are skipped. Everything else (geometry, tiling, threads, autodiff) is Swift.
//
// Each output element is summed in a fixed order (kernel rows, then kx·C + c; the filter
// gradient image by image), so results never depend on how callers split the work.

#include "CLoupeSupport.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <stdlib.h>

#define AVX512 __attribute__((target("avx512f,fma")))
#define INLINE static inline __attribute__((always_inline))

// A scratch buffer on a 64-byte boundary (a cache line), its size rounded up as C11 asks.
static void *aligned_buffer(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

int loupe_direct_convolution_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

// ---------------------------------------------------------------------------------------------
// Forward (and input-gradient) kernel: a block of P output pixels × V·16 output channels.

INLINE AVX512 void rows_block(int P, int V, const float *input, long rowStride, int rows,
                              const float *filter, long filterRowStride, int filterStride, int taps, int pixelStride,
                              int outChannels, const float *bias, int accumulate, float *out) {
    __m512 acc[12][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < V; v++) {
            if (accumulate) acc[p][v] = _mm512_loadu_ps(out + (long)p * outChannels + v * 16);
            else if (bias) acc[p][v] = _mm512_loadu_ps(bias + v * 16);
            else acc[p][v] = _mm512_setzero_ps();
        }
    }
    for (int r = 0; r < rows; r++) {
        const float *a = input + r * rowStride;
        const float *w = filter + r * filterRowStride;
        for (int j = 0; j < taps; j++) {
            __m512 wv[4];
#pragma clang loop unroll(full)
            for (int v = 0; v < V; v++) wv[v] = _mm512_loadu_ps(w + (long)j * filterStride + v * 16);
#pragma clang loop unroll(full)
            for (int p = 0; p < P; p++) {
                __m512 b = _mm512_set1_ps(a[(long)p * pixelStride + j]);
#pragma clang loop unroll(full)
                for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(b, wv[v], acc[p][v]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < V; v++) _mm512_storeu_ps(out + (long)p * outChannels + v * 16, acc[p][v]);
    }
}

typedef void (*rows_kernel)(const float *, long, int, const float *, long, int, int, int, int, const float *, int,
                            float *);

#define ROWS_KERNEL(P, V)                                                                                       \
    static AVX512 void rows_##P##_##V(const float *input, long rowStride, int rows, const float *filter,          \
                                      long filterRowStride, int filterStride, int taps, int pixelStride,         \
                                      int outChannels, const float *bias, int accumulate, float *out) {          \
        rows_block(P, V, input, rowStride, rows, filter, filterRowStride, filterStride, taps, pixelStride,       \
                   outChannels, bias, accumulate, out);                                                          \
    }
#define ROWS_KERNELS(V)                                                                                         \
    ROWS_KERNEL(1, V) ROWS_KERNEL(2, V) ROWS_KERNEL(3, V) ROWS_KERNEL(4, V) ROWS_KERNEL(5, V) ROWS_KERNEL(6, V)  \
    ROWS_KERNEL(7, V) ROWS_KERNEL(8, V) ROWS_KERNEL(9, V) ROWS_KERNEL(10, V) ROWS_KERNEL(11, V) ROWS_KERNEL(12, V)
ROWS_KERNELS(1)
ROWS_KERNELS(2)
ROWS_KERNEL(1, 4) ROWS_KERNEL(2, 4) ROWS_KERNEL(3, 4) ROWS_KERNEL(4, 4) ROWS_KERNEL(5, 4) ROWS_KERNEL(6, 4)

static const rows_kernel rows_kernels_1[13] = {0, rows_1_1, rows_2_1, rows_3_1, rows_4_1, rows_5_1, rows_6_1,
                                               rows_7_1, rows_8_1, rows_9_1, rows_10_1, rows_11_1, rows_12_1};
static const rows_kernel rows_kernels_2[13] = {0, rows_1_2, rows_2_2, rows_3_2, rows_4_2, rows_5_2, rows_6_2,
                                               rows_7_2, rows_8_2, rows_9_2, rows_10_2, rows_11_2, rows_12_2};
static const rows_kernel rows_kernels_4[7] = {0, rows_1_4, rows_2_4, rows_3_4, rows_4_4, rows_5_4, rows_6_4};

// The widest register block for V vectors of channels (pixels for the forward kernel, taps for
// the filter-gradient one): 24 accumulators, so the V vectors loaded per step and the broadcast
// value still fit in the 32 registers (7 × 4 spills).
static int max_block(int V) { return V == 4 ? 6 : 12; }

// How many vectors of 16 channels the next chunk from channel c0 of n takes: 4 while it can,
// then 2, then 1 (n is a multiple of 16).
static int vectors_at(int n, int c0) {
    const int remaining = (n - c0) / 16;
    return remaining >= 4 ? 4 : (remaining >= 2 ? 2 : 1);
}

static const rows_kernel *rows_kernels_for(int V) {
    return V == 4 ? rows_kernels_4 : (V == 2 ? rows_kernels_2 : rows_kernels_1);
}

// Output row oy of image n, written to outRow [outputWidth][outChannels].
static void conv_row(const loupe_conv_rows_args *a, int n, int oy, float *outRow) {
    const long filterRowStride = (long)a->kernelWidth * a->inputChannels * a->outChannels;
    const long rowStride = (long)a->paddedWidth * a->inputChannels;
    int ky0 = a->padTop - oy;
    if (ky0 < 0) ky0 = 0;
    int ky1 = a->inputHeight + a->padTop - oy;
    if (ky1 > a->kernelHeight) ky1 = a->kernelHeight;
    const float *inRow = a->input + ((long)n * a->inputHeight + (oy + ky0 - a->padTop)) * rowStride;
    const float *filterRow = a->filter + (long)ky0 * filterRowStride;
    const int rows = ky1 - ky0;
    // Pixels in three runs: those whose window hangs over the left padding, those wholly inside,
    // and those over the right padding. Each run is cut into blocks as equal as possible (14
    // interior pixels go as 5 + 5 + 4, not 6 + 6 + 2), and a block multiplies only the kx that
    // reach the image for at least one of its pixels (the others read padding, which is zero).
    int left = a->padLeft, right = a->inputWidth + a->padLeft - a->kernelWidth + 1;
    if (left > a->outputWidth) left = a->outputWidth;
    if (left < 0) left = 0;
    if (right < left) right = left;
    if (right > a->outputWidth) right = a->outputWidth;
    const int runs[4] = {0, left, right, a->outputWidth};
    for (int c0 = 0; c0 < a->outChannels;) {
        const int V = vectors_at(a->outChannels, c0);
        const rows_kernel *kernels = rows_kernels_for(V);
        const int pmax = max_block(V);
        const float *bias = a->bias ? a->bias + c0 : 0;
        for (int run = 0; run < 3; run++) {
            const int length = runs[run + 1] - runs[run];
            if (length <= 0) continue;
            const int blocks = (length + pmax - 1) / pmax;
            const int P = (length + blocks - 1) / blocks;
            for (int ox = runs[run]; ox < runs[run + 1]; ox += P) {
                const int width = runs[run + 1] - ox < P ? runs[run + 1] - ox : P;
                float *out = outRow + (long)ox * a->outChannels + c0;
                int kx0 = a->padLeft - (ox + width - 1), kx1 = a->inputWidth + a->padLeft - ox;
                if (kx0 < 0) kx0 = 0;
                if (kx1 > a->kernelWidth) kx1 = a->kernelWidth;
                if (rows <= 0 || kx1 <= kx0) {  // the windows lie wholly in the padding
                    if (!a->accumulate)
                        for (int p = 0; p < width; p++)
                            for (int c = 0; c < V * 16; c++) out[(long)p * a->outChannels + c] = bias ? bias[c] : 0;
                    continue;
                }
                const long skipped = (long)kx0 * a->inputChannels;
                kernels[width](inRow + (long)ox * a->inputChannels + skipped, rowStride, rows,
                               filterRow + skipped * a->outChannels + c0, filterRowStride, a->outChannels,
                               (kx1 - kx0) * a->inputChannels, a->inputChannels, a->outChannels, bias, a->accumulate,
                               out);
            }
        }
        c0 += V * 16;
    }
}

void loupe_conv_rows(const loupe_conv_rows_args *a, int firstImage, int endImage) {
    for (int n = firstImage; n < endImage; n++)
        for (int oy = 0; oy < a->outputHeight; oy++)
            conv_row(a, n, oy, a->output + ((long)n * a->outputHeight + oy) * a->outputWidth * a->outChannels);
}

// Max of the 2x2 windows of rows top and below (outputWidth even), then ReLU; the switch of
// each window is the flat index of its largest element in the convolution's output, ties going
// to the first in row-major order (as maxPool2D).
static AVX512 void relu_pool_rows(const float *top, const float *below, int width, int channels, long firstIndex,
                                  float *pooled, int32_t *switches) {
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const long rowLength = (long)width * channels;
    for (int px = 0; px < width / 2; px++) {
        for (int c = 0; c < channels; c += 16) {
            const long o0 = (long)(2 * px) * channels + c, o1 = o0 + channels;
            __m512 m = _mm512_loadu_ps(top + o0);
            __m512i index = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(firstIndex + o0)), lanes);
            const __m512 v1 = _mm512_loadu_ps(top + o1), v2 = _mm512_loadu_ps(below + o0), v3 = _mm512_loadu_ps(below + o1);
            __mmask16 better = _mm512_cmp_ps_mask(v1, m, _CMP_GT_OQ);
            m = _mm512_mask_mov_ps(m, better, v1);
            index = _mm512_mask_mov_epi32(index, better, _mm512_add_epi32(_mm512_set1_epi32((int32_t)(firstIndex + o1)), lanes));
            better = _mm512_cmp_ps_mask(v2, m, _CMP_GT_OQ);
            m = _mm512_mask_mov_ps(m, better, v2);
            index = _mm512_mask_mov_epi32(index, better,
                                          _mm512_add_epi32(_mm512_set1_epi32((int32_t)(firstIndex + rowLength + o0)), lanes));
            better = _mm512_cmp_ps_mask(v3, m, _CMP_GT_OQ);
            m = _mm512_mask_mov_ps(m, better, v3);
            index = _mm512_mask_mov_epi32(index, better,
                                          _mm512_add_epi32(_mm512_set1_epi32((int32_t)(firstIndex + rowLength + o1)), lanes));
            const __mmask16 positive = _mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ);
            _mm512_storeu_ps(pooled + (long)px * channels + c, _mm512_maskz_mov_ps(positive, m));
            _mm512_storeu_epi32(switches + (long)px * channels + c, index);
        }
    }
}

AVX512 void loupe_relu_pool_backward(const float *pooled, const int32_t *switches, const float *dy, int height, int width,
                              int channels, int firstImage, int endImage, float *dConv) {
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const long rowLength = (long)width * channels;
    for (int n = firstImage; n < endImage; n++) {
        for (int oy = 0; oy < height; oy += 2) {
            const long first = ((long)n * height + oy) * rowLength;
            const long pooledRow = ((long)n * (height / 2) + oy / 2) * (rowLength / 2);
            for (int px = 0; px < width / 2; px++) {
                for (int c = 0; c < channels; c += 16) {
                    const long i = pooledRow + (long)px * channels + c;
                    const __m512 y = _mm512_loadu_ps(pooled + i), g = _mm512_loadu_ps(dy + i);
                    const __m512i s = _mm512_loadu_epi32(switches + i);
                    const __mmask16 passed = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ);
                    const long o0 = first + (long)(2 * px) * channels + c;
                    const long offsets[4] = {o0, o0 + channels, o0 + rowLength, o0 + rowLength + channels};
                    for (int q = 0; q < 4; q++) {
                        const __m512i index = _mm512_add_epi32(_mm512_set1_epi32((int32_t)offsets[q]), lanes);
                        const __mmask16 here = _mm512_mask_cmpeq_epi32_mask(passed, s, index);
                        _mm512_storeu_ps(dConv + offsets[q], _mm512_maskz_mov_ps(here, g));
                    }
                }
            }
        }
    }
}

int loupe_conv_relu_pool(const loupe_conv_rows_args *a, int firstImage, int endImage, float *pooled,
                         int32_t *switches) {
    const long rowLength = (long)a->outputWidth * a->outChannels;
    float *rows = aligned_buffer((size_t)(2 * rowLength) * sizeof(float));
    if (!rows) return 0;
    const long pooledRow = rowLength / 4 * 2;  // (outputWidth / 2) · outChannels
    for (int n = firstImage; n < endImage; n++) {
        for (int oy = 0; oy < a->outputHeight; oy += 2) {
            conv_row(a, n, oy, rows);
            conv_row(a, n, oy + 1, rows + rowLength);
            const long out = ((long)n * (a->outputHeight / 2) + oy / 2) * pooledRow;
            relu_pool_rows(rows, rows + rowLength, a->outputWidth, a->outChannels,
                           ((long)n * a->outputHeight + oy) * rowLength, pooled + out, switches + out);
        }
    }
    free(rows);
    return 1;
}

// ---------------------------------------------------------------------------------------------
// Filter gradient kernel: J consecutive taps (kx·C + c) × V·16 output channels of one kernel
// row, summed over the pixels of one image. The same outer-product step as rows_block with A
// read the other way: here the register block runs along A's contiguous index (the J taps, at
// constant offsets from one pointer) and the loop along its strided one; rows_block blocks the
// strided index. Merging the two would turn those constant offsets into J runtime ones, more
// than the 16 general registers hold next to the other pointers.

INLINE AVX512 void filter_block(int J, int V, const float *input, long rowStride, const float *dy, long dyRowStride,
                                int rows, int width, int pixelStride, int dyStride, int outChannels, int overwrite,
                                float *dFilter) {
    __m512 acc[12][4];
#pragma clang loop unroll(full)
    for (int j = 0; j < J; j++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < V; v++)
            acc[j][v] = overwrite ? _mm512_setzero_ps() : _mm512_loadu_ps(dFilter + (long)j * outChannels + v * 16);
    }
    for (int r = 0; r < rows; r++) {
        const float *a = input + r * rowStride;
        const float *d = dy + r * dyRowStride;
        for (int x = 0; x < width; x++) {
            __m512 dv[4];
#pragma clang loop unroll(full)
            for (int v = 0; v < V; v++) dv[v] = _mm512_loadu_ps(d + (long)x * dyStride + v * 16);
#pragma clang loop unroll(full)
            for (int j = 0; j < J; j++) {
                __m512 b = _mm512_set1_ps(a[(long)x * pixelStride + j]);
#pragma clang loop unroll(full)
                for (int v = 0; v < V; v++) acc[j][v] = _mm512_fmadd_ps(b, dv[v], acc[j][v]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < J; j++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < V; v++) _mm512_storeu_ps(dFilter + (long)j * outChannels + v * 16, acc[j][v]);
    }
}

typedef void (*filter_kernel)(const float *, long, const float *, long, int, int, int, int, int, int, float *);

#define FILTER_KERNEL(J, V)                                                                                     \
    static AVX512 void filter_##J##_##V(const float *input, long rowStride, const float *dy, long dyRowStride,   \
                                        int rows, int width, int pixelStride, int dyStride, int outChannels,     \
                                        int overwrite, float *dFilter) {                                         \
        filter_block(J, V, input, rowStride, dy, dyRowStride, rows, width, pixelStride, dyStride, outChannels,   \
                     overwrite, dFilter);                                                                        \
    }
#define FILTER_KERNELS(V)                                                                                       \
    FILTER_KERNEL(1, V) FILTER_KERNEL(2, V) FILTER_KERNEL(3, V) FILTER_KERNEL(4, V) FILTER_KERNEL(5, V)         \
    FILTER_KERNEL(6, V) FILTER_KERNEL(7, V) FILTER_KERNEL(8, V) FILTER_KERNEL(9, V) FILTER_KERNEL(10, V)        \
    FILTER_KERNEL(11, V) FILTER_KERNEL(12, V)
FILTER_KERNELS(1)
FILTER_KERNELS(2)
FILTER_KERNEL(1, 4) FILTER_KERNEL(2, 4) FILTER_KERNEL(3, 4) FILTER_KERNEL(4, 4) FILTER_KERNEL(5, 4)
FILTER_KERNEL(6, 4)

static const filter_kernel filter_kernels_1[13] = {0, filter_1_1, filter_2_1, filter_3_1, filter_4_1,
                                                   filter_5_1, filter_6_1, filter_7_1, filter_8_1, filter_9_1,
                                                   filter_10_1, filter_11_1, filter_12_1};
static const filter_kernel filter_kernels_2[13] = {0, filter_1_2, filter_2_2, filter_3_2, filter_4_2,
                                                   filter_5_2, filter_6_2, filter_7_2, filter_8_2, filter_9_2,
                                                   filter_10_2, filter_11_2, filter_12_2};
static const filter_kernel filter_kernels_4[7] = {0, filter_1_4, filter_2_4, filter_3_4, filter_4_4, filter_5_4,
                                                  filter_6_4};

static const filter_kernel *filter_kernels_for(int V) {
    return V == 4 ? filter_kernels_4 : (V == 2 ? filter_kernels_2 : filter_kernels_1);
}

// How the filter gradient is cut into independent pieces: within each kernel row, every chunk of
// 16·V output channels (at most 64 chunks: outChannels ≤ 1024) is cut into `blocks` blocks of
// `taps` consecutive taps (kx·C + c), the last possibly shorter. Returns the pieces per kernel row.
typedef struct { int start, V, blocks, taps; } filter_chunk;

static int filter_chunks(const loupe_conv_rows_args *a, filter_chunk chunks[64], int *count) {
    const int taps = a->kernelWidth * a->inputChannels;
    int perRow = 0;
    *count = 0;
    for (int c0 = 0; c0 < a->outChannels && *count < 64;) {
        const int V = vectors_at(a->outChannels, c0);
        const int blocks = (taps + max_block(V) - 1) / max_block(V);
        chunks[(*count)++] = (filter_chunk){c0, V, blocks, (taps + blocks - 1) / blocks};
        perRow += blocks;
        c0 += V * 16;
    }
    return perRow;
}

int loupe_conv_filter_items(const loupe_conv_rows_args *a) {
    filter_chunk chunks[64];
    int count;
    return filter_chunks(a, chunks, &count) * a->kernelHeight;
}

void loupe_conv_filter_gradient(const loupe_conv_rows_args *a, const float *dy, float *dFilter, int firstItem,
                                int itemStep) {
    const int taps = a->kernelWidth * a->inputChannels;
    const long filterRowStride = (long)taps * a->outChannels;
    const long rowStride = (long)a->paddedWidth * a->inputChannels;
    const long dyRowStride = (long)a->outputWidth * a->outChannels;
    // Items, numbered kernel row by kernel row: (channel chunk, block of taps).
    filter_chunk chunks[64];
    int count;
    const int perRow = filter_chunks(a, chunks, &count);
    const int items = perRow * a->kernelHeight;
    for (int n = 0; n < a->batch; n++) {
        for (int item = firstItem; item < items; item += itemStep) {
            const int ky = item / perRow;
            int rest = item % perRow, chunk = 0;
            while (rest >= chunks[chunk].blocks) rest -= chunks[chunk++].blocks;
            const int V = chunks[chunk].V, c0 = chunks[chunk].start, J = chunks[chunk].taps;
            const int j0 = rest * J;
            const int width = taps - j0 < J ? taps - j0 : J;
            // Output rows whose input row oy + ky − padTop lies inside the image.
            int oy0 = a->padTop - ky;
            if (oy0 < 0) oy0 = 0;
            int oy1 = a->inputHeight + a->padTop - ky;
            if (oy1 > a->outputHeight) oy1 = a->outputHeight;
            if (oy1 <= oy0) continue;
            const float *input = a->input + ((long)n * a->inputHeight + (oy0 + ky - a->padTop)) * rowStride + j0;
            const float *d = dy + ((long)n * a->outputHeight + oy0) * dyRowStride + c0;
            float *out = dFilter + (long)ky * filterRowStride + (long)j0 * a->outChannels + c0;
            filter_kernels_for(V)[width](input, rowStride, d, dyRowStride, oy1 - oy0, a->outputWidth, a->inputChannels,
                           a->outChannels, a->outChannels, 0, out);
        }
    }
}


// ---------------------------------------------------------------------------------------------
// Products with a short side (a dense layer at batch 50), where BLAS spends much of its time
// packing the long operand. The same two kernels, read as GEMMs.

// Copies `rows` rows of 16·V floats, `stride` floats apart, into consecutive rows.
static AVX512 void pack_rows(float *dst, const float *src, int rows, long stride, int V) {
    for (int r = 0; r < rows; r++) {
        const float *s = src + r * stride;
        float *d = dst + (long)r * V * 16;
        for (int v = 0; v < V; v++) _mm512_storeu_ps(d + v * 16, _mm512_loadu_ps(s + v * 16));
    }
}

int loupe_gemm_short_rows(int m, int n, int k, const float *a, const float *b, float *c, int accumulate,
                          int columnStart, int columnEnd) {
    // B's panel [kc, 16·V] is copied into contiguous rows: read in place, its rows lie n floats
    // apart (4 KB for 1024 columns) and fall into the same few L1 sets. With few rows, kc = 256
    // keeps the panel and A's rows in L1/L2; with many, the whole of k in one panel (up to 1 MB)
    // spares C a load and store per block of k, which then costs more than the panel's misses.
    const int kc = m >= 256 ? k : 256;
    float *panel = aligned_buffer((size_t)kc * 64 * sizeof(float));
    if (!panel) return 0;
    for (int k0 = 0; k0 < k; k0 += kc) {
        const int taps = k - k0 < kc ? k - k0 : kc;
        const int add = accumulate || k0 > 0;
        for (int c0 = columnStart; c0 < columnEnd;) {
            const int V = vectors_at(columnEnd, c0);
            pack_rows(panel, b + (long)k0 * n + c0, taps, n, V);
            const rows_kernel *kernels = rows_kernels_for(V);
            const int pmax = max_block(V);
            const int blocks = (m + pmax - 1) / pmax;
            const int P = (m + blocks - 1) / blocks;
            for (int r0 = 0; r0 < m; r0 += P) {
                const int rows = m - r0 < P ? m - r0 : P;
                kernels[rows](a + (long)r0 * k + k0, 0, 1, panel, 0, V * 16, taps, k, n, 0, add, c + (long)r0 * n + c0);
            }
            c0 += V * 16;
        }
    }
    free(panel);
    return 1;
}

void loupe_gemm_pack(int k, int n, const float *b, int ldb, float *packed) {
    for (int c0 = 0; c0 < n;) {
        const int V = vectors_at(n, c0);
        pack_rows(packed + (long)c0 * k, b + c0, k, ldb, V);
        c0 += V * 16;
    }
}

void loupe_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                       int accumulate) {
    // k in blocks of 256, so that a chunk's panel (256 × 64 floats, 64 KB) stays in L2 while every
    // block of rows reads it: a weight gradient's k of T·B = 3584 would stream 0.9 MB per block.
    const int kc = 256;
    for (int c0 = 0; c0 < n;) {
        const int V = vectors_at(n, c0);
        const rows_kernel *kernels = rows_kernels_for(V);
        const int pmax = max_block(V);
        const int blocks = (m + pmax - 1) / pmax;
        const int P = (m + blocks - 1) / blocks;
        for (int k0 = 0; k0 < k; k0 += kc) {
            const int taps = k - k0 < kc ? k - k0 : kc;
            const float *panel = packed + (long)c0 * k + (long)k0 * V * 16;
            for (int r0 = 0; r0 < m; r0 += P) {
                const int rows = m - r0 < P ? m - r0 : P;
                kernels[rows](a + (long)r0 * lda + k0, 0, 1, panel, 0, V * 16, taps, lda, ldc, 0, accumulate || k0 > 0,
                              c + (long)r0 * ldc + c0);
            }
        }
        c0 += V * 16;
    }
}

void loupe_gemm_tn(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                   int accumulate) {
    for (int c0 = 0; c0 < n;) {
        const int V = vectors_at(n, c0);
        const int jmax = V == 4 ? 6 : 12;
        for (int r0 = 0; r0 < m;) {
            const int J = m - r0 < jmax ? m - r0 : jmax;
            filter_kernels_for(V)[J](a + r0, 0, b + c0, 0, 1, k, lda, ldb, ldc, !accumulate, c + (long)r0 * ldc + c0);
            r0 += J;
        }
        c0 += V * 16;
    }
}

int loupe_gemm_short_inner(int m, int n, int k, const float *a, const float *b, float *c, int accumulate,
                           int rowStart, int rowEnd) {
    // B [k, n] copied chunk by chunk of 64 columns, [chunk][k][64]: each chunk's panel is then
    // contiguous (12.8 KB at k = 50) instead of k rows 4 KB apart.
    float *packed = aligned_buffer((size_t)k * n * sizeof(float));
    if (!packed) return 0;
    for (int c0 = 0; c0 < n;) {
        const int V = vectors_at(n, c0);
        pack_rows(packed + (long)c0 * k, b + c0, k, n, V);
        c0 += V * 16;
    }
    for (int r0 = rowStart; r0 < rowEnd;) {
        int J = 6;
        if (rowEnd - r0 < J) J = rowEnd - r0;
        for (int c0 = 0; c0 < n;) {
            const int V = vectors_at(n, c0);
            filter_kernels_for(V)[J](a + r0, 0, packed + (long)c0 * k, 0, 1, k, m, V * 16, n, !accumulate, c + (long)r0 * n + c0);
            c0 += V * 16;
        }
        r0 += J;
    }
    free(packed);
    return 1;
}


// ---------------------------------------------------------------------------------------------
// The backward pass of the fused convolution + ReLU + 2x2 max-pool, from the windows' winners.
// Each window passes its gradient to one element per channel, and only where ReLU let it
// through: at most a quarter of the convolution's output gradient is non-zero. Rather than
// multiply the zeros (the dense kernels would), every winner adds its gradient times one input
// row segment [KW·C] per kernel row into the filter gradient (held in registers, channel by
// channel), and its gradient times the filter's segment into the input gradient.

void loupe_pool_winners(const float *pooled, const int32_t *switches, const float *dy, int height, int width,
                        int channels, int firstImage, int endImage, int32_t *winnerRow, int32_t *winnerColumn,
                        float *gradient, int32_t *counts) {
    const int ph = height / 2, pw = width / 2, capacity = ph * pw;
    const long rowLength = (long)width * channels;
    for (int n = firstImage; n < endImage; n++) {
        int32_t *count = counts + (long)n * channels;
        for (int o = 0; o < channels; o++) count[o] = 0;
        for (int py = 0; py < ph; py++) {
            for (int px = 0; px < pw; px++) {
                const long i = (((long)n * ph + py) * pw + px) * channels;
                const long corner = (((long)n * height + 2 * py) * width + 2 * px) * channels;
                for (int o = 0; o < channels; o++) {
                    if (!(pooled[i + o] > 0)) continue;
                    const long offset = switches[i + o] - (corner + o);
                    const long e = ((long)n * channels + o) * capacity + count[o]++;
                    winnerRow[e] = 2 * py + (offset >= rowLength ? 1 : 0);
                    winnerColumn[e] = 2 * px + (offset % rowLength != 0 ? 1 : 0);
                    gradient[e] = dy[i + o];
                }
            }
        }
    }
}

// Filter gradient of output channel o for kernel rows ky0..<ky0+R and vectors s0..<s0+S of the
// row segment, into out (rows KW·C floats apart).
INLINE AVX512 void sparse_filter_block(int R, int S, const loupe_conv_rows_args *a, const int32_t *winnerRow,
                                       const int32_t *winnerColumn, const float *gradient, const int32_t *counts,
                                       int o, int ky0, int s0, int firstImage, int endImage, float *out) {
    const long segment = (long)a->kernelWidth * a->inputChannels;
    __m512 acc[2][10];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < S; v++)
            acc[r][v] = firstImage > 0 ? _mm512_loadu_ps(out + r * segment + v * 16) : _mm512_setzero_ps();
    const int capacity = (a->outputHeight / 2) * (a->outputWidth / 2);
    const long rowStride = (long)a->paddedWidth * a->inputChannels;
    for (int n = firstImage; n < endImage; n++) {
        const long first = ((long)n * a->outChannels + o) * capacity;
        const int count = counts[(long)n * a->outChannels + o];
        const float *image = a->input + (long)n * a->inputHeight * rowStride + s0 * 16;
        for (int k = 0; k < count; k++) {
            const __m512 g = _mm512_set1_ps(gradient[first + k]);
            const int iy0 = winnerRow[first + k] + ky0 - a->padTop;
            const float *x = image + (long)iy0 * rowStride + (long)winnerColumn[first + k] * a->inputChannels;
#pragma clang loop unroll(full)
            for (int r = 0; r < R; r++) {
                if (iy0 + r < 0 || iy0 + r >= a->inputHeight) continue;
#pragma clang loop unroll(full)
                for (int v = 0; v < S; v++)
                    acc[r][v] = _mm512_fmadd_ps(g, _mm512_loadu_ps(x + r * rowStride + v * 16), acc[r][v]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < S; v++) _mm512_storeu_ps(out + r * segment + v * 16, acc[r][v]);
}

// Input gradient of image n from output channel o's winners, kernel rows ky0..<ky0+R, vectors
// s0..<s0+S: scratch [inputHeight][paddedWidth][C] += gradient · filterT[o][ky][segment].
INLINE AVX512 void sparse_input_block(int R, int S, const loupe_conv_rows_args *a, const int32_t *winnerRow,
                                      const int32_t *winnerColumn, const float *gradient, long first, int count,
                                      const float *filterRows, int ky0, int s0, float *scratch) {
    const long segment = (long)a->kernelWidth * a->inputChannels;
    const long rowStride = (long)a->paddedWidth * a->inputChannels;
    __m512 w[2][10];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < S; v++) w[r][v] = _mm512_loadu_ps(filterRows + r * segment + v * 16);
    for (int k = 0; k < count; k++) {
        const __m512 g = _mm512_set1_ps(gradient[first + k]);
        const int iy0 = winnerRow[first + k] + ky0 - a->padTop;
        float *d = scratch + (long)iy0 * rowStride + (long)winnerColumn[first + k] * a->inputChannels + s0 * 16;
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            if (iy0 + r < 0 || iy0 + r >= a->inputHeight) continue;
#pragma clang loop unroll(full)
            for (int v = 0; v < S; v++) {
                float *p = d + r * rowStride + v * 16;
                _mm512_storeu_ps(p, _mm512_fmadd_ps(g, w[r][v], _mm512_loadu_ps(p)));
            }
        }
    }
}

typedef void (*sparse_filter_kernel)(const loupe_conv_rows_args *, const int32_t *, const int32_t *, const float *,
                                     const int32_t *, int, int, int, int, int, float *);
typedef void (*sparse_input_kernel)(const loupe_conv_rows_args *, const int32_t *, const int32_t *, const float *, long,
                                    int, const float *, int, int, float *);

#define SPARSE_KERNELS(R, S)                                                                                    \
    static AVX512 void sparse_filter_##R##_##S(const loupe_conv_rows_args *a, const int32_t *rows,               \
                                               const int32_t *columns, const float *g, const int32_t *counts,    \
                                               int o, int ky0, int s0, int n0, int n1, float *out) {             \
        sparse_filter_block(R, S, a, rows, columns, g, counts, o, ky0, s0, n0, n1, out);                         \
    }                                                                                                           \
    static AVX512 void sparse_input_##R##_##S(const loupe_conv_rows_args *a, const int32_t *rows,                \
                                              const int32_t *columns, const float *g, long first, int count,     \
                                              const float *filterRows, int ky0, int s0, float *scratch) {        \
        sparse_input_block(R, S, a, rows, columns, g, first, count, filterRows, ky0, s0, scratch);               \
    }
#define SPARSE_ROW(R)                                                                                           \
    SPARSE_KERNELS(R, 1) SPARSE_KERNELS(R, 2) SPARSE_KERNELS(R, 3) SPARSE_KERNELS(R, 4) SPARSE_KERNELS(R, 5)    \
    SPARSE_KERNELS(R, 6) SPARSE_KERNELS(R, 7) SPARSE_KERNELS(R, 8) SPARSE_KERNELS(R, 9) SPARSE_KERNELS(R, 10)
SPARSE_ROW(1)
SPARSE_ROW(2)

static const sparse_filter_kernel sparse_filter_kernels[3][11] = {
    {0},
    {0, sparse_filter_1_1, sparse_filter_1_2, sparse_filter_1_3, sparse_filter_1_4, sparse_filter_1_5,
     sparse_filter_1_6, sparse_filter_1_7, sparse_filter_1_8, sparse_filter_1_9, sparse_filter_1_10},
    {0, sparse_filter_2_1, sparse_filter_2_2, sparse_filter_2_3, sparse_filter_2_4, sparse_filter_2_5,
     sparse_filter_2_6, sparse_filter_2_7, sparse_filter_2_8, sparse_filter_2_9, sparse_filter_2_10},
};
static const sparse_input_kernel sparse_input_kernels[3][11] = {
    {0},
    {0, sparse_input_1_1, sparse_input_1_2, sparse_input_1_3, sparse_input_1_4, sparse_input_1_5,
     sparse_input_1_6, sparse_input_1_7, sparse_input_1_8, sparse_input_1_9, sparse_input_1_10},
    {0, sparse_input_2_1, sparse_input_2_2, sparse_input_2_3, sparse_input_2_4, sparse_input_2_5,
     sparse_input_2_6, sparse_input_2_7, sparse_input_2_8, sparse_input_2_9, sparse_input_2_10},
};

void loupe_sparse_filter_gradient(const loupe_conv_rows_args *a, const int32_t *winnerRow, const int32_t *winnerColumn,
                                  const float *gradient, const int32_t *counts, float *transposed, float *biasSums,
                                  int firstChannel, int endChannel) {
    const int vectors = a->kernelWidth * a->inputChannels / 16;
    const long segment = (long)a->kernelWidth * a->inputChannels;
    const int capacity = (a->outputHeight / 2) * (a->outputWidth / 2);
    // Images one at a time when one image's padded input fits L1 (conv2's is 32 KB), else in
    // groups of about that size: every channel passes over them while they are in cache. The
    // sums carry from group to group through `transposed`, image by image in order as before.
    const long imageBytes = (long)a->inputHeight * a->paddedWidth * a->inputChannels * (long)sizeof(float);
    int group = (int)((32 << 10) / (imageBytes > 0 ? imageBytes : 1));
    if (group < 1) group = 1;
    for (int n0 = 0; n0 < a->batch; n0 += group) {
        const int n1 = a->batch - n0 < group ? a->batch : n0 + group;
        for (int o = firstChannel; o < endChannel; o++) {
            for (int ky0 = 0; ky0 < a->kernelHeight; ky0 += 2) {
                const int R = a->kernelHeight - ky0 < 2 ? 1 : 2;
                for (int s0 = 0; s0 < vectors; s0 += 10) {
                    const int S = vectors - s0 < 10 ? vectors - s0 : 10;
                    sparse_filter_kernels[R][S](a, winnerRow, winnerColumn, gradient, counts, o, ky0, s0, n0, n1,
                                                transposed + ((long)o * a->kernelHeight + ky0) * segment + s0 * 16);
                }
            }
        }
    }
    for (int o = firstChannel; o < endChannel; o++) {
        if (biasSums) {
            float sum = 0;
            for (int n = 0; n < a->batch; n++) {
                const long first = ((long)n * a->outChannels + o) * capacity;
                const int count = counts[(long)n * a->outChannels + o];
                for (int k = 0; k < count; k++) sum += gradient[first + k];
            }
            biasSums[o] = sum;
        }
    }
}

int loupe_sparse_input_gradient(const loupe_conv_rows_args *a, const int32_t *winnerRow, const int32_t *winnerColumn,
                                const float *gradient, const int32_t *counts, const float *filterT, float *dx,
                                int inputWidth, int padLeft, int firstImage, int endImage) {
    const int vectors = a->kernelWidth * a->inputChannels / 16;
    const long segment = (long)a->kernelWidth * a->inputChannels;
    const long rowStride = (long)a->paddedWidth * a->inputChannels;
    const int capacity = (a->outputHeight / 2) * (a->outputWidth / 2);
    const long scratchCount = (long)a->inputHeight * rowStride;
    float *scratch = aligned_buffer((size_t)scratchCount * sizeof(float));
    if (!scratch) return 0;
    for (int n = firstImage; n < endImage; n++) {
        for (long i = 0; i < scratchCount; i++) scratch[i] = 0;
        for (int o = 0; o < a->outChannels; o++) {
            const long first = ((long)n * a->outChannels + o) * capacity;
            const int count = counts[(long)n * a->outChannels + o];
            if (count == 0) continue;
            for (int ky0 = 0; ky0 < a->kernelHeight; ky0 += 2) {
                const int R = a->kernelHeight - ky0 < 2 ? 1 : 2;
                for (int s0 = 0; s0 < vectors; s0 += 10) {
                    const int S = vectors - s0 < 10 ? vectors - s0 : 10;
                    sparse_input_kernels[R][S](a, winnerRow, winnerColumn, gradient, first, count,
                                               filterT + ((long)o * a->kernelHeight + ky0) * segment + s0 * 16, ky0,
                                               s0, scratch);
                }
            }
        }
        const int C = a->inputChannels;
        for (int iy = 0; iy < a->inputHeight; iy++) {
            float *out = dx + (((long)n * a->inputHeight + iy) * inputWidth) * C;
            const float *in = scratch + (long)iy * rowStride + (long)padLeft * C;
            for (long i = 0; i < (long)inputWidth * C; i++) out[i] += in[i];
        }
    }
    free(scratch);
    return 1;
}

#else

int loupe_direct_convolution_supported(void) { return 0; }
void loupe_conv_rows(const loupe_conv_rows_args *a, int firstImage, int endImage) {
    (void)a, (void)firstImage, (void)endImage;
}
int loupe_conv_filter_items(const loupe_conv_rows_args *a) { (void)a; return 0; }
void loupe_pool_winners(const float *pooled, const int32_t *switches, const float *dy, int height, int width,
                        int channels, int firstImage, int endImage, int32_t *winnerRow, int32_t *winnerColumn,
                        float *gradient, int32_t *counts) {
    (void)pooled, (void)switches, (void)dy, (void)height, (void)width, (void)channels, (void)firstImage,
        (void)endImage, (void)winnerRow, (void)winnerColumn, (void)gradient, (void)counts;
}
void loupe_sparse_filter_gradient(const loupe_conv_rows_args *a, const int32_t *winnerRow, const int32_t *winnerColumn,
                                  const float *gradient, const int32_t *counts, float *transposed, float *biasSums,
                                  int firstChannel, int endChannel) {
    (void)a, (void)winnerRow, (void)winnerColumn, (void)gradient, (void)counts, (void)transposed, (void)biasSums,
        (void)firstChannel, (void)endChannel;
}
int loupe_sparse_input_gradient(const loupe_conv_rows_args *a, const int32_t *winnerRow, const int32_t *winnerColumn,
                                const float *gradient, const int32_t *counts, const float *filterT, float *dx,
                                int inputWidth, int padLeft, int firstImage, int endImage) {
    (void)a, (void)winnerRow, (void)winnerColumn, (void)gradient, (void)counts, (void)filterT, (void)dx,
        (void)inputWidth, (void)padLeft, (void)firstImage, (void)endImage;
    return 0;
}
void loupe_relu_pool_backward(const float *pooled, const int32_t *switches, const float *dy, int height, int width,
                              int channels, int firstImage, int endImage, float *dConv) {
    (void)pooled, (void)switches, (void)dy, (void)height, (void)width, (void)channels, (void)firstImage,
        (void)endImage, (void)dConv;
}
int loupe_conv_relu_pool(const loupe_conv_rows_args *a, int firstImage, int endImage, float *pooled,
                         int32_t *switches) {
    (void)a, (void)firstImage, (void)endImage, (void)pooled, (void)switches;
    return 0;
}
void loupe_conv_filter_gradient(const loupe_conv_rows_args *a, const float *dy, float *dFilter, int firstItem,
                                int itemStep) {
    (void)a, (void)dy, (void)dFilter, (void)firstItem, (void)itemStep;
}
int loupe_gemm_short_rows(int m, int n, int k, const float *a, const float *b, float *c, int accumulate,
                          int columnStart, int columnEnd) {
    (void)m, (void)n, (void)k, (void)a, (void)b, (void)c, (void)accumulate, (void)columnStart, (void)columnEnd;
    return 0;
}
void loupe_gemm_tn(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                   int accumulate) {
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc, (void)accumulate;
}
void loupe_gemm_pack(int k, int n, const float *b, int ldb, float *packed) {
    (void)k, (void)n, (void)b, (void)ldb, (void)packed;
}
void loupe_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                       int accumulate) {
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)packed, (void)c, (void)ldc, (void)accumulate;
}
int loupe_gemm_short_inner(int m, int n, int k, const float *a, const float *b, float *c, int accumulate,
                           int rowStart, int rowEnd) {
    (void)m, (void)n, (void)k, (void)a, (void)b, (void)c, (void)accumulate, (void)rowStart, (void)rowEnd;
    return 0;
}

#endif
