/*
 * `toonify faces IMAGE [--models DIR] [--debug-overlay FILE.png]`: runs the face pass of the
 * compound pipeline on a photo at its own resolution and prints what it found as JSON (boxes,
 * scores, the five alignment points and the 68 landmarks), so detection can be inspected and
 * compared; the overlay draws them on the photo.
 *
 * The face models are looked for in --models (or --model, the same), else where every command looks
 * for models (toon_cli_model_dirs), each place either holding the files or a face/ subdirectory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "face/face.h"
#include "image/codec.h"

static const char faces_usage[] =
    "usage: toonify faces IMAGE [--models DIR] [--debug-overlay FILE.png]\n"
    "(--model DIR is the same as --models DIR)\n"
    "Prints the faces found in IMAGE as JSON: box, score, five points and 68 landmarks.\n";

static int has_face_models(const char *dir)
{
    char p[4200];
    struct stat sb;
    snprintf(p, sizeof p, "%.4000s/face_detection_short_range.tflite", dir);
    if (stat(p, &sb) == 0) return 1;
    snprintf(p, sizeof p, "%.4000s/face/face_detection_short_range.tflite", dir);
    return stat(p, &sb) == 0;
}

/* Picks the face model directory (--models as given, else the first of the places every
 * toonify command looks for models that holds them); returns 0 when none is found. */
static int find_face_dir(const char *flag, char *out, size_t len)
{
    if (flag) {
        snprintf(out, len, "%s", flag);
        return 1;
    }
    char dirs[6][4096];
    int n = toon_cli_model_dirs(NULL, dirs, 6);
    for (int i = 0; i < n; i++)
        if (has_face_models(dirs[i])) {
            snprintf(out, len, "%.4000s", dirs[i]);
            return 1;
        }
    return 0;
}

static void put_px(struct toon_image *im, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) return;
    memcpy(im->data + (size_t)y * im->stride + (size_t)x * 3, rgb, 3);
}

static void draw_rect(struct toon_image *im, float x0, float y0, float x1, float y1, int t,
                      const uint8_t rgb[3])
{
    for (int d = -t; d <= t; d++) {
        for (int x = (int)x0; x <= (int)x1; x++) {
            put_px(im, x, (int)y0 + d, rgb);
            put_px(im, x, (int)y1 + d, rgb);
        }
        for (int y = (int)y0; y <= (int)y1; y++) {
            put_px(im, (int)x0 + d, y, rgb);
            put_px(im, (int)x1 + d, y, rgb);
        }
    }
}

static void draw_dot(struct toon_image *im, float x, float y, int r, const uint8_t rgb[3])
{
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            if (dx * dx + dy * dy <= r * r) put_px(im, (int)x + dx, (int)y + dy, rgb);
}

static void print_points(const float (*p)[2], int n)
{
    printf("[");
    for (int i = 0; i < n; i++) printf("%s[%.1f, %.1f]", i ? ", " : "", p[i][0], p[i][1]);
    printf("]");
}

int toon_cli_faces(int argc, char **argv)
{
    const char *input = NULL, *overlay = NULL, *models = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--debug-overlay") == 0 && i + 1 < argc)
            overlay = argv[++i];
        else if ((strcmp(argv[i], "--models") == 0 || strcmp(argv[i], "--model") == 0) &&
                 i + 1 < argc)
            models = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(faces_usage, stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "toonify faces: unknown option %s\n%s", argv[i], faces_usage);
            return 2;
        } else if (!input)
            input = argv[i];
        else {
            fprintf(stderr, "toonify faces: one image at a time\n%s", faces_usage);
            return 2;
        }
    }
    if (!input) {
        fputs(faces_usage, stderr);
        return 2;
    }
    char dir[4096];
    if (!find_face_dir(models, dir, sizeof dir)) {
        fprintf(stderr, "toonify faces: no face models found (run tools/fetch-models.sh or pass "
                        "--models DIR)\n");
        return 3;
    }
    struct toon_err err = {{0}};
    struct toon_face_models *fm = NULL;
    struct toon_image img = {0};
    struct toon_face *faces = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    int n = 0, rc = 0;
    enum toon_status st = toon_face_models_load(dir, &fm, &err);
    if (st == TOON_STATUS_OK) st = toon_cli_read_file(input, &data, &len, &err);
    if (st == TOON_STATUS_OK) st = toon_image_decode(data, len, NULL, &img, &err);
    faces = calloc(TOON_FACE_MAX, sizeof *faces);
    if (st == TOON_STATUS_OK && !faces)
        st = toon_err_set(&err, TOON_STATUS_NO_MEMORY, "out of memory");
    if (st == TOON_STATUS_OK) st = toon_face_detect(fm, &img, faces, TOON_FACE_MAX, &n, &err);
    for (int i = 0; i < n && st == TOON_STATUS_OK; i++) {
        st = toon_face_landmarks(fm, &img, &faces[i], 0, &err);
        if (st == TOON_STATUS_OK) st = toon_face_five_points(&img, &faces[i], 0, &err);
    }
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "toonify faces: %s: %s\n", input, err.msg);
        rc = toon_status_exit_code(st);
        goto done;
    }
    printf("{\"image\": {\"w\": %d, \"h\": %d}, \"faces\": [", img.w, img.h);
    for (int i = 0; i < n; i++) {
        const struct toon_face *f = &faces[i];
        printf("%s\n  {\"box\": [%.1f, %.1f, %.1f, %.1f], \"score\": %.3f,\n   \"points5\": ",
               i ? "," : "", f->x0, f->y0, f->x1, f->y1, f->score);
        print_points((const float(*)[2])f->pts5, 5);
        printf(",\n   \"landmarks68\": ");
        print_points((const float(*)[2])f->lm, 68);
        printf("}");
    }
    printf("\n]}\n");
    if (overlay) {
        static const uint8_t red[3] = {255, 0, 0}, green[3] = {0, 255, 0}, blue[3] = {0, 80, 255};
        int t = img.w > 1000 ? 2 : 1;
        for (int i = 0; i < n; i++) {
            draw_rect(&img, faces[i].x0, faces[i].y0, faces[i].x1, faces[i].y1, t, red);
            for (int k = 0; k < 68; k++)
                draw_dot(&img, faces[i].lm[k][0], faces[i].lm[k][1], t, green);
            for (int k = 0; k < 5; k++)
                draw_dot(&img, faces[i].pts5[k][0], faces[i].pts5[k][1], 2 * t + 1, blue);
        }
        FILE *f = fopen(overlay, "wb");
        if (!f) {
            fprintf(stderr, "toonify faces: cannot write %s\n", overlay);
            rc = 3;
            goto done;
        }
        st = toon_image_encode(&img, TOON_FORMAT_PNG, 0, toon_write_file, f, &err);
        if (fclose(f) != 0 && st == TOON_STATUS_OK) st = TOON_STATUS_IO;
        if (st != TOON_STATUS_OK) {
            fprintf(stderr, "toonify faces: %s: %s\n", overlay, err.msg);
            rc = toon_status_exit_code(st);
        }
    }
done:
    free(faces);
    free(data);
    toon_image_free(&img);
    toon_face_models_free(fm);
    return rc;
}
