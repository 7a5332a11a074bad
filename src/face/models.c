/*
 * Loading the face models from a directory (the project's models/face, or a directory that
 * has a face/ subdirectory): BlazeFace short range (required), BlazeFace full range
 * (optional) and the face-api landmark manifest with its .bin (required).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "face/face.h"
#include "face/models.h"

#define MAX_MODEL_BYTES ((size_t)64 << 20)

static const char *const short_name = "face_detection_short_range.tflite";
static const char *const full_name = "face_detection_full_range.tflite";
static const char *const manifest_name = "face_landmark_68_model-weights_manifest.json";
static const char *const bin_name = "face_landmark_68_model.bin";

/* Reads a whole file (at most MAX_MODEL_BYTES) into toon_malloc'd memory. */
static enum toon_status read_file(const char *dir, const char *name, uint8_t **out, size_t *len,
                                  struct toon_err *err)
{
    char path[4096];
    *out = NULL;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "face model path too long");
    FILE *f = fopen(path, "rb");
    if (!f) return toon_err_set(err, TOON_STATUS_NOT_FOUND, "%s: cannot open", path);
    enum toon_status st = TOON_STATUS_OK;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = toon_err_set(err, TOON_STATUS_IO, "%s: cannot read", path);
        goto fail;
    }
    if ((size_t)n > MAX_MODEL_BYTES) {
        st = toon_err_set(err, TOON_STATUS_TOO_LARGE, "%s: larger than 64 MB", path);
        goto fail;
    }
    buf = toon_malloc((size_t)n + 1);
    if (!buf) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        st = toon_err_set(err, TOON_STATUS_IO, "%s: short read", path);
        goto fail;
    }
    buf[n] = 0;
    fclose(f);
    *out = buf;
    *len = (size_t)n;
    return TOON_STATUS_OK;
fail:
    toon_free(buf);
    fclose(f);
    return st;
}

static int file_exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static enum toon_status load_tfnet(const char *dir, const char *name, struct toon_tfnet **out,
                                   struct toon_err *err)
{
    uint8_t *data;
    size_t len;
    enum toon_status st = read_file(dir, name, &data, &len, err);
    if (st != TOON_STATUS_OK) return st;
    st = toon_tfnet_load(data, len, out, err);
    toon_free(data);
    if (st != TOON_STATUS_OK) {
        char msg[sizeof err->msg];
        if (err) {
            snprintf(msg, sizeof msg, "%.60s: %.400s", name, err->msg);
            snprintf(err->msg, sizeof err->msg, "%s", msg);
        }
    }
    return st;
}

enum toon_status toon_face_models_load(const char *dir, struct toon_face_models **out,
                                       struct toon_err *err)
{
    char sub[4096];
    uint8_t *json = NULL, *bin = NULL;
    size_t json_len = 0, bin_len = 0;
    enum toon_status st;
    *out = NULL;
    if (!dir) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no face model directory");
    if (!file_exists(dir, short_name) &&
        snprintf(sub, sizeof sub, "%s/face", dir) < (int)sizeof sub && file_exists(sub, short_name))
        dir = sub;
    struct toon_face_models *fm = toon_calloc(1, sizeof *fm);
    if (!fm) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    if ((st = load_tfnet(dir, short_name, &fm->det_short, err)) != TOON_STATUS_OK) goto fail;
    if (file_exists(dir, full_name) &&
        (st = load_tfnet(dir, full_name, &fm->det_full, err)) != TOON_STATUS_OK)
        goto fail;
    if ((st = read_file(dir, manifest_name, &json, &json_len, err)) != TOON_STATUS_OK) goto fail;
    if ((st = read_file(dir, bin_name, &bin, &bin_len, err)) != TOON_STATUS_OK) goto fail;
    if ((st = toon_lm68_load_memory((const char *)json, json_len, bin, bin_len, &fm->lm, err)) !=
        TOON_STATUS_OK)
        goto fail;
    toon_free(json);
    toon_free(bin);
    fm->bytes = sizeof *fm + toon_alloc_overhead() + toon_tfnet_bytes(fm->det_short) +
                (fm->det_full ? toon_tfnet_bytes(fm->det_full) : 0) + toon_lm68_bytes(fm->lm);
    *out = fm;
    return TOON_STATUS_OK;
fail:
    toon_free(json);
    toon_free(bin);
    toon_face_models_free(fm);
    return st;
}

void toon_face_models_free(struct toon_face_models *fm)
{
    if (!fm) return;
    toon_tfnet_free(fm->det_short);
    toon_tfnet_free(fm->det_full);
    toon_lm68_free(fm->lm);
    toon_free(fm);
}

size_t toon_face_models_bytes(const struct toon_face_models *fm)
{
    return fm->bytes;
}
