/*
 * The convolution kernel registry (see conv.h): every kernel's descriptor in priority order,
 * the filter the environment sets, and the choice per layer.
 *
 * A layer takes the first kernel that the filter allows, that fits its shape on this CPU and
 * whose products the layer's precision allows (bf16 only on the fast path).  The order is the
 * measured one (bench/KERNELS.md): our direct kernels for the 3-output layer, where libraries
 * idle 13 of 16 lanes; our Winograd kernels for the 3x3 stride-1 layers; our bf16 direct
 * kernel for the fast path's other layers; oneDNN for what is left; the reference last.
 * TOONIFY_KERNEL=ref keeps only the reference (debugging, and the oracle in tests);
 * TOONIFY_KERNEL=onednn drops our wide kernels so oneDNN takes their layers (comparisons).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/cpu.h"
#include "nn/conv.h"

static const struct toon_conv_kernel *const registry[] = {
    &toon_conv_kernel_direct_f32__avx512,
    &toon_conv_kernel_direct_f32__avx2,
    &toon_conv_kernel_wino_bf16__avx512bf16,
    &toon_conv_kernel_wino_f32__avx512,
    &toon_conv_kernel_wino_f32__avx2,
    &toon_conv_kernel_span_bf16__avx512bf16,
    &toon_conv_kernel_dnnl_bf16,
    &toon_conv_kernel_dnnl_f32,
    &toon_conv_kernel_ref,
};
enum { N_KERNELS = sizeof registry / sizeof registry[0] };

const struct toon_conv_kernel *toon_conv_kernel_get(enum toon_kernel id)
{
    for (int i = 0; i < N_KERNELS; i++)
        if (registry[i]->id == id) return registry[i];
    TOON_ASSERT(!"no such kernel");
    return &toon_conv_kernel_ref;
}

const char *toon_kernel_name(enum toon_kernel k)
{
    for (int i = 0; i < N_KERNELS; i++)
        if (registry[i]->id == k) return registry[i]->name;
    return "?";
}

struct toon_kernel_filter toon_kernel_filter_make(unsigned cpu, const char *kernel)
{
    unsigned all = TOON_KERNEL_CLASS_REF | TOON_KERNEL_CLASS_NARROW | TOON_KERNEL_CLASS_WIDE |
                   TOON_KERNEL_CLASS_ONEDNN;
    struct toon_kernel_filter f = {cpu, all};
    if (kernel && strcmp(kernel, "ref") == 0) f.classes = TOON_KERNEL_CLASS_REF;
    if (kernel && strcmp(kernel, "onednn") == 0) f.classes = all & ~TOON_KERNEL_CLASS_WIDE;
    return f;
}

static struct toon_kernel_filter g_env_filter;
static pthread_once_t g_env_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    g_env_filter = toon_kernel_filter_make(toon_cpu_features(), getenv("TOONIFY_KERNEL"));
}

const struct toon_kernel_filter *toon_kernel_filter_env(void)
{
    pthread_once(&g_env_once, read_env);
    return &g_env_filter;
}

enum toon_kernel toon_conv_choose_with(const struct toon_gen_conv *gc, int fast,
                                       const struct toon_kernel_filter *f)
{
    for (int i = 0; i < N_KERNELS; i++) {
        const struct toon_conv_kernel *k = registry[i];
        if (!(f->classes & k->kclass) || (k->bf16 && !fast)) continue;
        if (k->supports(gc, f->cpu)) return k->id;
    }
    return TOON_KERNEL_REF;
}

enum toon_kernel toon_conv_choose(const struct toon_gen_conv *gc, int fast)
{
    return toon_conv_choose_with(gc, fast, toon_kernel_filter_env());
}
