/*
 * Loaded generator models and the public generator entry points (include/toonify/toonify.h).
 *
 * A model file is recognised by its bytes, not its name: TFLite files carry "TFL3" at offset
 * 4; anything else is tried as a TensorFlow GraphDef.  The file is read once, parsed into
 * fp32 weights (formats/genweights.h), and the bytes are released; kernels repack the weights
 * for each executor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "formats/graphdef.h"
#include "formats/tflite.h"
#include "nn/generator.h"
#include "nn/model.h"
#include "toonify/toonify.h"

/* Model files are a few MB; anything far larger is not one of ours. */
#define MAX_MODEL_BYTES (256u << 20)

struct toon_model {
    struct toon_gen_weights gw;
    char name[256];
    char description[128];
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

enum toon_status toon_model_load_memory(const uint8_t *data, size_t len, const char *name,
                                        struct toon_model **out, struct toon_err *err)
{
    struct toon_model *m = toon_calloc(1, sizeof *m);
    if (!m) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory loading a model");
    snprintf(m->name, sizeof m->name, "%s", name ? name : "model");
    enum toon_status st;
    struct toon_err e = {{0}};
    if (len >= 8 && memcmp(data + 4, "TFL3", 4) == 0)
        st = toon_tflite_read_generator(data, len, &m->gw, &e);
    else
        st = toon_graphdef_read_generator(data, len, &m->gw, &e);
    if (st != TOON_STATUS_OK) {
        toon_free(m);
        /* A damaged or foreign model file is a model problem, whatever the parser called it. */
        if (st == TOON_STATUS_CORRUPT || st == TOON_STATUS_UNSUPPORTED) st = TOON_STATUS_MODEL;
        return toon_err_set(err, st, "%s: %s", name ? name : "model", e.msg);
    }
    snprintf(m->description, sizeof m->description, "%s, %s weights, eps %.7g", m->gw.format,
             m->gw.weight_type, (double)m->gw.gf_eps);
    *out = m;
    return TOON_STATUS_OK;
}

enum toon_status toon_model_load(const char *path, struct toon_model **out, struct toon_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return toon_err_set(err, TOON_STATUS_NOT_FOUND, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return toon_err_set(err, TOON_STATUS_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > MAX_MODEL_BYTES) {
        fclose(f);
        return toon_err_set(err, TOON_STATUS_MODEL, "%s: %lld bytes is too large for a model file",
                            path, (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *data = toon_malloc(len ? len : 1);
    if (!data) {
        fclose(f);
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "%s: out of memory", path);
    }
    size_t got = fread(data, 1, len, f);
    fclose(f);
    if (got != len) {
        toon_free(data);
        return toon_err_set(err, TOON_STATUS_IO, "%s: read error", path);
    }
    enum toon_status st = toon_model_load_memory(data, len, path, out, err);
    toon_free(data);
    if (st == TOON_STATUS_OK) snprintf((*out)->name, sizeof(*out)->name, "%s", base_name(path));
    return st;
}

void toon_model_free(struct toon_model *m)
{
    if (!m) return;
    toon_gen_weights_free(&m->gw);
    toon_free(m);
}

const char *toon_model_name(const struct toon_model *m)
{
    return m->name;
}

const char *toon_model_description(const struct toon_model *m)
{
    return m->description;
}

size_t toon_model_bytes(const struct toon_model *m)
{
    size_t ov = toon_alloc_overhead(), n = sizeof *m + ov;
    for (int i = 0; i < TOON_GEN_N_CONV; i++) {
        const struct toon_gen_conv *c = &m->gw.conv[i];
        n += (size_t)c->cout * c->k * c->k * c->cin * sizeof(float) + ov;
        n += (size_t)c->cout * sizeof(float) + ov;
    }
    return n;
}

const struct toon_gen_weights *toon_model_weights(const struct toon_model *m)
{
    return &m->gw;
}

/* ---- generator entry points -------------------------------------------------------------- */

struct toon_generator_params toon_generator_default_params(void)
{
    struct toon_generator_params p = {TOON_PRECISION_FP32, 16, 0};
    return p;
}

const char *toon_precision_name(enum toon_precision precision)
{
    return precision == TOON_PRECISION_FAST   ? "fast"
           : precision == TOON_PRECISION_FP32 ? "fp32"
                                              : "?";
}

int toon_precision_from_name(const char *name, enum toon_precision *out)
{
    if (name && strcmp(name, "fp32") == 0)
        *out = TOON_PRECISION_FP32;
    else if (name && strcmp(name, "fast") == 0)
        *out = TOON_PRECISION_FAST;
    else
        return 0;
    return 1;
}

static struct toon_genx_params genx_params(const struct toon_generator_params *p)
{
    struct toon_genx_params g = {16, 0, 0, 0, 0};
    if (p) {
        g.band_rows = p->band_rows > 0 ? p->band_rows : 16;
        g.fast = p->precision == TOON_PRECISION_FAST;
        g.whole = p->whole_image;
    }
    return g;
}

size_t toon_generator_plan_bytes(const struct toon_model *m, const struct toon_generator_params *p,
                                 int h, int w)
{
    struct toon_genx_params g = genx_params(p);
    return toon_genx_plan_bytes(&m->gw, h, w, &g) + toon_genx_plan_native_bytes(h, w, &g);
}

enum toon_status toon_generator_run(const struct toon_model *m,
                                    const struct toon_generator_params *p, int h, int w,
                                    toon_gen_src_fn src, void *src_ctx, toon_gen_sink_fn sink,
                                    void *sink_ctx, struct toon_err *err)
{
    struct toon_genx_params g = genx_params(p);
    struct toon_genx *x = NULL;
    enum toon_status st = toon_genx_new(&m->gw, h, w, &g, &x, err);
    if (st != TOON_STATUS_OK) return st;
    st = toon_genx_run(x, src, src_ctx, sink, sink_ctx, err);
    toon_genx_free(x);
    return st;
}

struct image_io {
    const float *in;
    float *out;
    int w;
};

static enum toon_status image_src(void *ctx, int y0, int n, float *rows, struct toon_err *err)
{
    (void)err;
    const struct image_io *io = ctx;
    memcpy(rows, io->in + (size_t)y0 * io->w * 3, (size_t)n * io->w * 3 * sizeof(float));
    return TOON_STATUS_OK;
}

static enum toon_status image_sink(void *ctx, int y0, int n, const float *rows,
                                   struct toon_err *err)
{
    (void)err;
    const struct image_io *io = ctx;
    memcpy(io->out + (size_t)y0 * io->w * 3, rows, (size_t)n * io->w * 3 * sizeof(float));
    return TOON_STATUS_OK;
}

enum toon_status toon_generator_run_image(const struct toon_model *m,
                                          const struct toon_generator_params *p, int h, int w,
                                          const float *in, float *out, struct toon_err *err)
{
    struct image_io io = {in, out, w};
    return toon_generator_run(m, p, h, w, image_src, &io, image_sink, &io, err);
}

void toon_set_threads(int n)
{
    toon_threads_set(n);
}

int toon_get_threads(void)
{
    return toon_threads_get();
}

enum toon_status toon_describe_kernels(const struct toon_model *m, enum toon_precision prec,
                                       char *buf, size_t len)
{
    struct toon_genx_params g = {16, prec == TOON_PRECISION_FAST, 0, 0, 0};
    struct toon_genx *x = NULL;
    struct toon_err err;
    enum toon_status st = toon_genx_new(&m->gw, 64, 64, &g, &x, &err);
    if (st != TOON_STATUS_OK) {
        snprintf(buf, len, "%s", err.msg);
        return st;
    }
    /* Group the layers by kind: 7x7 in, 3x3 stride 2, the encoder's 3x3, the residual blocks
     * and decoder's 3x3 (where the fast path starts), 7x7 out. */
    int layers[] = {0, 1, 2, 5, TOON_GEN_N_CONV - 1};
    const char *names[] = {"conv7x7 3->32", "conv3x3/2", "conv3x3 encoder",
                           "conv3x3 blocks+decoder", "conv7x7 32->3"};
    size_t off = 0;
    for (int i = 0; i < 5 && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s: %s (%s)", i ? "; " : "", names[i],
                         toon_kernel_name(toon_genx_kernel(x, layers[i])),
                         toon_genx_kernel_impl(x, layers[i]));
        if (n < 0) break;
        off += (size_t)n;
    }
    toon_genx_free(x);
    return TOON_STATUS_OK;
}
