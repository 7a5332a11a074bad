/*
 * TensorFlow.js weights manifests (see tfjs.h): two passes over the parsed JSON, the first
 * checking every entry against the wanted tensors and the .bin's size, the second (once the
 * pool is allocated) dequantising the wanted tensors into it.
 */
#include "formats/tfjs.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#define MAX_MANIFEST ((size_t)1 << 24)

/* What a pass reads from: the .bin, the wants, and (in the filling pass) the pool. */
struct pass {
    const uint8_t *bin;
    size_t bin_len, pos;
    struct toon_tfjs_want *wants;
    int n_wants;
    float *pool; /* NULL in the checking pass */
    const char *what;
};

void toon_tfjs_want_set(struct toon_tfjs_want *w, const char *name, int rank, int d0, int d1,
                        int d2, int d3, float **dst)
{
    snprintf(w->name, sizeof w->name, "%s", name);
    w->rank = rank;
    w->dims[0] = d0;
    w->dims[1] = d1;
    w->dims[2] = d2;
    w->dims[3] = d3;
    w->dst = dst;
    w->offset = 0;
    w->found = 0;
}

static size_t want_elems(const struct toon_tfjs_want *w)
{
    size_t n = 1;
    for (int i = 0; i < w->rank; i++) n *= (size_t)w->dims[i];
    return n;
}

static void *hook_malloc(size_t n)
{
    return toon_malloc(n);
}

static void hook_free(void *p)
{
    toon_free(p);
}

static enum toon_status bad(struct toon_err *err, const char *what, const char *why,
                            const char *name)
{
    return toon_err_set(err, TOON_STATUS_MODEL, "bad %s: %s%s%s", what, why, name ? ": " : "",
                        name ? name : "");
}

/* A JSON number that is a whole number in [lo, hi]. */
static int json_int(const cJSON *j, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= lo && v <= hi) || v != floor(v)) return 0;
    *out = (int)v;
    return 1;
}

/* An entry's shape: rank 0..4, whole dimensions, at most 2^28 elements. */
static enum toon_status read_shape(const cJSON *shape, const char *nm, const struct pass *p,
                                   int *rank, int dims[4], size_t *n, struct toon_err *err)
{
    *rank = cJSON_GetArraySize(shape);
    if (*rank < 0 || *rank > 4) return bad(err, p->what, "rank out of range", nm);
    *n = 1;
    for (int i = 0; i < *rank; i++) {
        if (!json_int(cJSON_GetArrayItem(shape, i), 0, 1 << 20, &dims[i]))
            return bad(err, p->what, "bad dimension", nm);
        if (!toon_size_mul(*n, (size_t)dims[i], n) || *n > ((size_t)1 << 28))
            return bad(err, p->what, "tensor too large", nm);
    }
    return TOON_STATUS_OK;
}

/* Quantised uint8 (q * scale + min) when quant is there, else plain float32 (*q8 = 0). */
static enum toon_status read_quant(const cJSON *quant, const char *nm, const struct pass *p,
                                   int *q8, double *scale, double *mn, struct toon_err *err)
{
    *q8 = 0;
    *scale = 1;
    *mn = 0;
    if (!quant) return TOON_STATUS_OK;
    const cJSON *qd = cJSON_GetObjectItemCaseSensitive(quant, "dtype");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(quant, "scale");
    const cJSON *qm = cJSON_GetObjectItemCaseSensitive(quant, "min");
    if (!cJSON_IsObject(quant) || !cJSON_IsString(qd) || strcmp(qd->valuestring, "uint8") ||
        !cJSON_IsNumber(qs) || !cJSON_IsNumber(qm) || !isfinite(qs->valuedouble) ||
        !isfinite(qm->valuedouble))
        return bad(err, p->what, "unsupported quantization (only uint8 with scale and min)", nm);
    *q8 = 1;
    *scale = qs->valuedouble;
    *mn = qm->valuedouble;
    return TOON_STATUS_OK;
}

/* The checking pass's test of a wanted tensor: listed once, with its expected shape. */
static enum toon_status check_want(struct toon_tfjs_want *w, int rank, const int dims[4],
                                   const char *what, struct toon_err *err)
{
    if (w->found) return bad(err, what, "tensor listed twice", w->name);
    w->found = 1;
    if (rank != w->rank) return bad(err, what, "unexpected shape", w->name);
    for (int i = 0; i < rank; i++)
        if (dims[i] != w->dims[i]) return bad(err, what, "unexpected shape", w->name);
    return TOON_STATUS_OK;
}

static void dequantise(float *dst, const uint8_t *src, size_t n, int q8, double scale, double mn)
{
    for (size_t i = 0; i < n; i++) {
        if (q8) {
            dst[i] = (float)(src[i] * scale + mn);
        } else {
            uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                         (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
            float f;
            memcpy(&f, &u, 4);
            dst[i] = isfinite(f) ? f : 0.0f;
        }
    }
}

/* Checks one manifest entry and, in the filling pass, dequantises it from the .bin. */
static enum toon_status read_entry(const cJSON *e, struct pass *p, struct toon_err *err)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *quant = cJSON_GetObjectItemCaseSensitive(e, "quantization");
    if (!cJSON_IsString(name) || !name->valuestring)
        return bad(err, p->what, "entry without a name", NULL);
    const char *nm = name->valuestring;
    if (!cJSON_IsArray(shape)) return bad(err, p->what, "no shape", nm);
    if (!cJSON_IsString(dtype) || strcmp(dtype->valuestring, "float32") != 0)
        return bad(err, p->what, "dtype is not float32", nm);
    int rank = 0, dims[4], q8 = 0;
    size_t n = 0;
    double scale = 1, mn = 0;
    enum toon_status st = read_shape(shape, nm, p, &rank, dims, &n, err);
    if (st == TOON_STATUS_OK) st = read_quant(quant, nm, p, &q8, &scale, &mn, err);
    if (st != TOON_STATUS_OK) return st;
    size_t n_bytes = q8 ? n : n * 4;
    if (n_bytes > p->bin_len - p->pos)
        return bad(err, p->what, "tensors run past the end of the .bin", nm);
    const uint8_t *src = p->bin + p->pos;
    p->pos += n_bytes;
    struct toon_tfjs_want *w = NULL;
    for (int i = 0; i < p->n_wants; i++)
        if (strcmp(p->wants[i].name, nm) == 0) w = &p->wants[i];
    if (!w) return TOON_STATUS_OK; /* a tensor nobody uses: skipped */
    if (!p->pool) return check_want(w, rank, dims, p->what, err);
    dequantise(p->pool + w->offset, src, n, q8, scale, mn);
    return TOON_STATUS_OK;
}

/* One pass over every entry of every group. */
static enum toon_status walk(const cJSON *root, struct pass *p, struct toon_err *err)
{
    p->pos = 0;
    if (!cJSON_IsArray(root)) return bad(err, p->what, "not a JSON array of weight groups", NULL);
    const cJSON *g;
    cJSON_ArrayForEach(g, root)
    {
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(g, "weights");
        if (!cJSON_IsObject(g) || !cJSON_IsArray(ws))
            return bad(err, p->what, "group without weights", NULL);
        const cJSON *e;
        cJSON_ArrayForEach(e, ws)
        {
            if (!cJSON_IsObject(e)) return bad(err, p->what, "weight entry is not an object", NULL);
            enum toon_status st = read_entry(e, p, err);
            if (st != TOON_STATUS_OK) return st;
        }
    }
    if (p->pos != p->bin_len)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "bad %s: tensors add up to %zu bytes, the .bin has %zu", p->what,
                            p->pos, p->bin_len);
    return TOON_STATUS_OK;
}

/* Places every wanted tensor (all found) in the pool; returns the pool's size in floats. */
static size_t lay_out(struct toon_tfjs_want *wants, int n_wants, size_t slack)
{
    size_t total = 0;
    for (int i = 0; i < n_wants; i++) {
        wants[i].offset = total;
        total += (want_elems(&wants[i]) + 15) & ~(size_t)15;
    }
    return total + slack;
}

enum toon_status toon_tfjs_read(const char *json, size_t json_len, const uint8_t *bin,
                                size_t bin_len, struct toon_tfjs_want *wants, int n_wants,
                                size_t slack, const char *what, float **pool, size_t *pool_floats,
                                struct toon_err *err)
{
    struct pass p = {bin, bin_len, 0, wants, n_wants, NULL, what};
    enum toon_status st;
    cJSON *root = NULL;
    cJSON_Hooks hooks = {hook_malloc, hook_free};
    cJSON_InitHooks(&hooks);
    if (json_len > MAX_MANIFEST) return bad(err, what, "manifest larger than 16 MB", NULL);
    root = cJSON_ParseWithLength(json, json_len);
    if (!root) return bad(err, what, "not valid JSON", NULL);
    if ((st = walk(root, &p, err)) != TOON_STATUS_OK) goto fail;
    for (int i = 0; i < n_wants; i++)
        if (!wants[i].found) {
            st = bad(err, what, "missing tensor", wants[i].name);
            goto fail;
        }
    size_t total = lay_out(wants, n_wants, slack);
    p.pool = toon_malloc(total * sizeof(float));
    if (!p.pool) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((st = walk(root, &p, err)) != TOON_STATUS_OK) goto fail;
    for (int i = 0; i < n_wants; i++) *wants[i].dst = p.pool + wants[i].offset;
    cJSON_Delete(root);
    *pool = p.pool;
    *pool_floats = total;
    return TOON_STATUS_OK;
fail:
    toon_free(p.pool);
    cJSON_Delete(root);
    return st;
}
