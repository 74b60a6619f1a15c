// A stack of 3×3 convolutions (stride 1, padding 1, bias, ReLU) with optional 2×2 max pooling
// before a layer, run by oneDNN, which picks its kernels from the CPU's features at run time
// (AVX2, AVX-512, …) whatever the CPU model. Each layer's output is delivered in plain
// channel-major layout; between layers the activations stay in oneDNN's blocked layout.
#ifndef CDIVSEG_DNNL_H
#define CDIVSEG_DNNL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ds_conv_stack ds_conv_stack;
typedef struct ds_conv_run ds_conv_run;

/// Builds the stack from OIHW kernels and biases (copied). `pool_before[i]` != 0 applies 2×2
/// max pooling (floor) to layer i's input. NULL with a message on failure.
ds_conv_stack *ds_conv_stack_create(int count, const int *in_channels, const int *out_channels,
                                    const int *pool_before, const float *const *kernels_oihw,
                                    const float *const *biases, char *msg, size_t cap);
void ds_conv_stack_destroy(ds_conv_stack *stack);

/// The implementation oneDNN chose for the first and the largest layers at this input size,
/// e.g. "brgconv:avx512_core"; "" if unknown. Valid until the stack is destroyed.
const char *ds_conv_stack_implementation(ds_conv_stack *stack, int height, int width);

/// Starts a forward pass over a `[in_channels[0], height, width]` input (copied in). Then call
/// ds_conv_run_next once per layer, in order, with room for that layer's `[out, h, w]`
/// output, and ds_conv_run_end. Runs of one stack may proceed on several threads at once.
ds_conv_run *ds_conv_run_begin(ds_conv_stack *stack, int height, int width, const float *input,
                               char *msg, size_t cap);
int ds_conv_run_next(ds_conv_run *run, float *output, char *msg, size_t cap);
void ds_conv_run_end(ds_conv_run *run);

#ifdef __cplusplus
}
#endif
#endif
