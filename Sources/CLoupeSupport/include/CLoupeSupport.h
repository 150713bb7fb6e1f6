#ifndef CLOUPE_SUPPORT_H
#define CLOUPE_SUPPORT_H

#include <stdint.h>

/// Sets flush-to-zero and denormals-are-zero for the calling thread (x86 MXCSR, AArch64 FPCR.FZ).
/// Denormal floats slow training down as weights and gradients shrink (MEASURED.md).
void loupe_flush_denormals(void);

/// 1 when the calling thread flushes denormals to zero, else 0.
int loupe_flushes_denormals(void);

/// OpenBLAS's kernel set when the program loaded, and after Loupe's selection ("" for other
/// BLAS libraries or platforms). The selection itself runs before main (BLASSelection.c).
const char *loupe_blas_initial_core(void);
const char *loupe_blas_core(void);

/// Direct stride-1 convolution (DirectConvolution.c). 1 when this CPU runs the AVX-512 kernels
/// below; they must not be called otherwise.
int loupe_direct_convolution_supported(void);

/// One stride-1 convolution over NHWC tensors, its input already padded left and right:
/// output[n][oy][ox][o] (+)= bias[o] + Σ input[n][oy + ky − padTop][ox + kx][c] · filter[ky][kx][c][o],
/// input rows outside 0..<inputHeight counting as zeros (skipped), and so the padding columns
/// (skipped where a whole block of pixels would read only padding for a kx).
/// outChannels must be a multiple of 16.
typedef struct {
    const float *input;    ///< [batch][inputHeight][paddedWidth][inputChannels]
    int batch, inputHeight, paddedWidth, inputChannels;
    const float *filter;   ///< [kernelHeight][kernelWidth][inputChannels][outChannels]
    int kernelHeight, kernelWidth, outChannels;
    const float *bias;     ///< [outChannels], or NULL; ignored when accumulating
    float *output;         ///< [batch][outputHeight][outputWidth][outChannels]
    int outputHeight, outputWidth, padTop;
    int inputWidth, padLeft; ///< the input's width before padding, and the columns added before it
    int accumulate;        ///< 1: add to output; 0: overwrite it
} loupe_conv_rows_args;

/// The convolution for images firstImage..<endImage.
void loupe_conv_rows(const loupe_conv_rows_args *args, int firstImage, int endImage);

/// The convolution, then ReLU and 2x2 max-pooling with stride 2 (outputHeight and outputWidth
/// even), two output rows at a time so that the full-size output is never stored: pooled
/// [batch][outputHeight/2][outputWidth/2][outChannels], and the switches (each window's largest
/// element as a flat index into the unpooled output; ties to the first in row-major order).
/// Returns 0, computing nothing, when its two-row buffer cannot be allocated.
int loupe_conv_relu_pool(const loupe_conv_rows_args *args, int firstImage, int endImage, float *pooled,
                         int32_t *switches);

/// The gradient of loupe_conv_relu_pool's convolution output [batch][height][width][channels]
/// (height, width even; channels a multiple of 16) for images firstImage..<endImage, from the
/// pooled output, its switches and its gradient dy: each window's gradient at its switch when the
/// pooled value is positive, zeros everywhere else. Writes every element of dConv.
void loupe_relu_pool_backward(const float *pooled, const int32_t *switches, const float *dy, int height, int width,
                              int channels, int firstImage, int endImage, float *dConv);

/// The winners of loupe_conv_relu_pool's windows that ReLU let through, for images
/// firstImage..<endImage, grouped by image and channel: for image n and channel o, counts[n·C + o]
/// entries from (n·C + o)·(height/2)·(width/2) on, in window order, give the winner's row and
/// column in the convolution output and the window's gradient from dy.
void loupe_pool_winners(const float *pooled, const int32_t *switches, const float *dy, int height, int width,
                        int channels, int firstImage, int endImage, int32_t *winnerRow, int32_t *winnerColumn,
                        float *gradient, int32_t *counts);

/// From those winners: the filter gradient of output channels firstChannel..<endChannel as
/// transposed[o][ky][kx·C + c] (overwritten) and, when biasSums is not NULL, biasSums[o] (the sum
/// of the channel's gradients). args->input is the padded input; inputChannels a multiple of 16.
void loupe_sparse_filter_gradient(const loupe_conv_rows_args *args, const int32_t *winnerRow,
                                  const int32_t *winnerColumn, const float *gradient, const int32_t *counts,
                                  float *transposed, float *biasSums, int firstChannel, int endChannel);

/// From those winners: dx [batch][inputHeight][inputWidth][C] += the input gradient of images
/// firstImage..<endImage, with filterT[o][ky][kx·C + c] the filter with its output channels first.
/// Returns 0, computing nothing, when its scratch image cannot be allocated.
int loupe_sparse_input_gradient(const loupe_conv_rows_args *args, const int32_t *winnerRow,
                                const int32_t *winnerColumn, const float *gradient, const int32_t *counts,
                                const float *filterT, float *dx, int inputWidth, int padLeft, int firstImage,
                                int endImage);

/// How many independent pieces the filter gradient is cut into (for threads).
int loupe_conv_filter_items(const loupe_conv_rows_args *args);

/// dFilter[ky][kx][c][o] += Σ input[n][oy + ky − padTop][ox + kx][c] · dy[n][oy][ox][o] over all
/// images and positions (args->output and bias unused), for pieces firstItem, firstItem + itemStep, …
/// Each element is summed image by image in order, whatever the pieces.
void loupe_conv_filter_gradient(const loupe_conv_rows_args *args, const float *dy, float *dFilter,
                                int firstItem, int itemStep);

/// C [m, n] (+)= A [m, k] · B [k, n], all row-major and contiguous, for C's columns
/// columnStart..<columnEnd (multiples of 16, as n must be). Returns 0, computing nothing, when
/// its packing buffer cannot be allocated.
int loupe_gemm_short_rows(int m, int n, int k, const float *a, const float *b, float *c, int accumulate,
                          int columnStart, int columnEnd);

/// C [m, n] (+)= Aᵀ · B with A stored [k, m] and B [k, n], for C's rows rowStart..<rowEnd;
/// n a multiple of 16. For a short inner dimension k (a weight gradient at batch 50). Returns 0,
/// computing nothing, when its packing buffer cannot be allocated.
int loupe_gemm_short_inner(int m, int n, int k, const float *a, const float *b, float *c, int accumulate,
                           int rowStart, int rowEnd);

/// B [k, n] (rows `ldb` floats apart; n a multiple of 16) copied into the panels
/// loupe_gemm_packed reads: `packed` holds k·n floats. For an operand used many times (a recurrent
/// kernel, once per time step), so that it is packed once rather than by every product.
void loupe_gemm_pack(int k, int n, const float *b, int ldb, float *packed);
/// C [m, n] (+)= A [m, k] · B, B packed by loupe_gemm_pack; A's rows `lda` apart, C's `ldc`.
/// Each element is summed over k in order, on the calling thread.
void loupe_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                       int accumulate);

/// C [m, n] (+)= Aᵀ · B with A stored [k, m] (rows `lda` apart) and B [k, n] (rows `ldb` apart),
/// both read in place, C's rows `ldc` apart; n a multiple of 16. For a short k (a recurrent
/// step's batch rows), each element summed over k in order on the calling thread.
void loupe_gemm_tn(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc,
                   int accumulate);

/// Recurrent cells (RecurrentCells.c): the elementwise part of one time step for `rows` examples
/// of H units. Per-unit arrays are [rows][H]; gate arrays [rows][G·H], gate g in columns
/// g·H ..< (g+1)·H; all contiguous. AVX-512 when the CPU has it, the same code on the baseline
/// otherwise.
///
/// LSTM, gates (i, f, g, o): `gates` holds the pre-activations (input and recurrent products and
/// bias) and receives i = σ, f = σ(· + forgetBias), g = tanh, o = σ; c = f·cPrev + i·g,
/// tanhC = tanh(c), h = o·tanhC.
void loupe_lstm_forward(int rows, int H, float *gates, const float *cPrev, float *c, float *tanhC, float *h,
                        float forgetBias);
/// From the activations, cPrev, tanh(c), the step's dh and dc (the cell gradient from the step
/// after, zeros at the last): `gates` receives the pre-activation gradients, `dc` the gradient of cPrev.
void loupe_lstm_backward(int rows, int H, float *gates, const float *cPrev, const float *tanhC, const float *dh,
                         float *dc);
/// tanh RNN: h = tanh(z); dz = dh·(1 − h²).
void loupe_rnn_forward(int rows, int H, const float *z, float *h);
void loupe_rnn_backward(int rows, int H, const float *h, const float *dh, float *dz);
/// GRU with the reset gate after the recurrent product (PyTorch, Keras `reset_after`), gates
/// (r, z, n): `gates` holds x·Wx + bx, `recurrent` h·Wh + bh; r = σ(xr + hr), z = σ(xz + hz),
/// n = tanh(xn + r·hn), h = (1 − z)·n + z·hPrev; `gates` receives (r, z, n).
void loupe_gru_forward(int rows, int H, float *gates, const float *recurrent, const float *hPrev, float *h);
/// `gates` receives the gradients of the input-side pre-activations, `recurrent` those of the
/// recurrent products (h·Wh + bh), `dhPrev` dh·z (the product with Whᵀ is added by the caller).
void loupe_gru_backward(int rows, int H, float *gates, float *recurrent, const float *hPrev, const float *dh,
                        float *dhPrev);
/// GRU as TensorFlow 1.x's GRUCell (reset before the product), gates (r, u, c), in two halves
/// around the candidate's product: r = σ, u = σ of columns 0 ..< 2H, rh = r·hPrev; then
/// c = tanh(column block 2, with rh·Whc added), h = u·hPrev + (1 − u)·c.
void loupe_gru_tf1_gates(int rows, int H, float *gates, const float *hPrev, float *rh);
void loupe_gru_tf1_candidate(int rows, int H, float *gates, const float *hPrev, float *h);
/// Backward halves: first the u and c pre-activation gradients (dhPrev = dh·u); the caller forms
/// dRH = dc·Whcᵀ; then the r gradient, with dhPrev += dRH·r.
void loupe_gru_tf1_backward_candidate(int rows, int H, float *gates, const float *hPrev, const float *dh,
                                      float *dhPrev);
void loupe_gru_tf1_backward_reset(int rows, int H, float *gates, const float *hPrev, const float *dRH,
                                  float *dhPrev);

#endif
