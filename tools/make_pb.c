/*
 * make_pb: writes a frozen TensorFlow graph laid out like an official DCT-Net generator
 * (`cartoon_h.pb` / `cartoon_bg.pb`, see tests/formats/pbwrite.h) so that the GraphDef path of
 * toonify can be tried without the official files.
 *
 *   make_pb [options] MODEL.tflite OUT.pb   weights from a White-box TFLite generator
 *   make_pb --fake K,C [options] OUT.pb     tiny deterministic fake weights (k x k kernels,
 *                                           C channels): not a usable model, a fuzz seed
 * Options: --prefix P (default "model_bg/"), --fp16, --float-val, --eps E, --box B,
 *          --exporter (StridedSlice/Cast spelling), --maximum (leaky ReLU as Maximum),
 *          --minmax (clip as Minimum/Maximum), --minimal (no optional attributes, no
 *          weights/read nodes), --no-guided-filter, --detector, --keypoints (write a
 *          face-model-like graph instead).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "formats/tflite.h"
#include "pbwrite.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: make_pb [--prefix P] [--fp16] [--float-val] [--eps E] [--box B]\n"
            "               [--exporter] [--maximum] [--minmax] [--minimal] [--no-guided-filter]\n"
            "               (MODEL.tflite | --fake K,C | --detector | --keypoints) OUT.pb\n");
    return 2;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = toon_malloc(n ? (size_t)n : 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        toon_free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    int fake_k = 0, fake_c = 0, detector = 0, keypoints = 0;
    const char *pos[2];
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--prefix") && i + 1 < argc)
            o.prefix = argv[++i];
        else if (!strcmp(a, "--fp16"))
            o.weight_dtype = 19;
        else if (!strcmp(a, "--float-val"))
            o.weight_enc = PBW_ENC_VALS, o.box_enc = PBW_ENC_FILL;
        else if (!strcmp(a, "--eps") && i + 1 < argc)
            o.eps = strtof(argv[++i], NULL);
        else if (!strcmp(a, "--box") && i + 1 < argc)
            o.box = strtof(argv[++i], NULL);
        else if (!strcmp(a, "--exporter"))
            o.exporter_form = 1;
        else if (!strcmp(a, "--maximum"))
            o.lrelu_maximum = 1;
        else if (!strcmp(a, "--minmax"))
            o.clip_minmax = 1;
        else if (!strcmp(a, "--minimal"))
            o.minimal = 1;
        else if (!strcmp(a, "--no-guided-filter"))
            o.with_guided_filter = 0;
        else if (!strcmp(a, "--detector"))
            detector = 1;
        else if (!strcmp(a, "--keypoints"))
            keypoints = 1;
        else if (!strcmp(a, "--fake") && i + 1 < argc) {
            if (sscanf(argv[++i], "%d,%d", &fake_k, &fake_c) != 2 || fake_k < 1 || fake_c < 1 ||
                fake_k > 7 || fake_c > 128)
                return usage();
        } else if (a[0] == '-' && a[1])
            return usage();
        else if (n_pos < 2)
            pos[n_pos++] = a;
        else
            return usage();
    }
    int need_model = !(fake_k || detector || keypoints);
    if (n_pos != (need_model ? 2 : 1)) return usage();
    const char *out_path = pos[n_pos - 1];

    struct pbw_buf pb = {0};
    struct toon_gen_weights gw;
    memset(&gw, 0, sizeof gw);
    int rc = 1;
    if (detector || keypoints) {
        if ((detector ? pbw_write_detector_like(&pb) : pbw_write_keypoints_like(&pb)) != 0)
            goto fail;
    } else {
        if (fake_k) {
            if (pbw_fake_weights(&gw, fake_k, fake_c, 1) != 0) goto fail;
        } else {
            size_t len;
            unsigned char *buf = read_all(pos[0], &len);
            if (!buf) {
                fprintf(stderr, "make_pb: cannot read %s\n", pos[0]);
                goto fail;
            }
            struct toon_err err;
            enum toon_status st = toon_tflite_read_generator(buf, len, &gw, &err);
            toon_free(buf);
            if (st != TOON_STATUS_OK) {
                fprintf(stderr, "make_pb: %s: %s\n", pos[0], err.msg);
                goto fail;
            }
        }
        if (pbw_write_generator(&gw, &o, &pb) != 0) goto fail;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(pb.data, 1, pb.len, f) != pb.len || fclose(f) != 0) {
        fprintf(stderr, "make_pb: cannot write %s\n", out_path);
        goto fail;
    }
    rc = 0;
fail:
    toon_gen_weights_free(&gw);
    pbw_buf_free(&pb);
    return rc;
}
