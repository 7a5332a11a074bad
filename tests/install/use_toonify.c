/* A program of a library user: built against the installed headers and library only.  Finds the
 * default models (PREFIX/share/toonify/models, from where the library lies), converts a
 * synthetic 64x48 picture with toon_convert_pixels and prints what it got. */
#include <stdio.h>
#include <stdlib.h>

#include <toonify/toonify.h>

int main(void)
{
    struct toon_model_paths mp;
    struct toon_err err;
    enum toon_status st = toon_models_find(NULL, NULL, NULL, 0, &mp, &err);
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "models: %s\n", err.msg);
        return toon_status_exit_code(st);
    }
    struct toon_model *m = NULL;
    if ((st = toon_model_load(mp.bg, &m, &err)) != TOON_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", mp.bg, err.msg);
        return toon_status_exit_code(st);
    }
    static uint8_t px[48][64][3];
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            px[y][x][0] = (uint8_t)(x * 4);
            px[y][x][1] = (uint8_t)(y * 5);
            px[y][x][2] = 128;
        }
    struct toon_image in = {64, 48, 3, 64 * 3, &px[0][0][0]}, out = {0};
    struct toon_convert_params p = toon_convert_default_params();
    p.mode = TOON_MODE_PLAIN;
    p.size = 32;
    st = toon_convert_pixels(m, &in, TOON_CHANNELS_RGB, &p, &out, NULL, &err);
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "convert: %s: %s\n", toon_status_str(st), err.msg);
        return toon_status_exit_code(st);
    }
    printf("toonify %s: %s -> %dx%d from %s\n", TOONIFY_VERSION, mp.style, out.w, out.h, mp.bg);
    toon_image_free(&out);
    toon_model_free(m);
    return 0;
}
