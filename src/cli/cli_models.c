/*
 * `toonify models list|verify [--model|--models DIR]`: the styles toonify finds, their files,
 * formats and checksums (and whether these are the published official ones); `verify` also loads
 * every generator and says what is wrong with any that does not load.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/modeldir.h"

static void print_file(const char *role, const char *path)
{
    if (!path[0]) return;
    char hex[65];
    struct toon_err err;
    if (toon_sha256_file(path, hex, &err) != TOON_STATUS_OK) {
        printf("    %-9s %s (%s)\n", role, path, err.msg);
        return;
    }
    const char *known = toon_modeldir_known_file(hex);
    printf("    %-9s %s\n              sha256 %s%s%s\n", role, path, hex, known ? " = " : "",
           known ? known : "");
}

static int verify_style(const struct toon_style_entry *e)
{
    int bad = 0;
    const char *paths[2] = {e->bg_path, e->head_path};
    for (int i = 0; i < 2; i++) {
        if (i == 1 && strcmp(e->head_path, e->bg_path) == 0) break;
        struct toon_model *m = NULL;
        struct toon_err err;
        if (toon_model_load(paths[i], &m, &err) != TOON_STATUS_OK) {
            printf("    FAILED  %s\n", err.msg);
            bad = 1;
        } else {
            printf("    ok      %s (%s)\n", paths[i], toon_model_description(m));
            toon_model_free(m);
        }
    }
    return bad;
}

int toon_cli_models(int argc, char **argv)
{
    static const struct option longopts[] = {{"model", required_argument, 0, 'm'},
                                             {"models", required_argument, 0, 'm'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *flag = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
        if (c == 'm') {
            flag = optarg;
        } else {
            fputs("usage: toonify models list|verify [--model|--models DIR]\n",
                  c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    const char *what = optind < argc ? argv[optind] : "list";
    int verify = strcmp(what, "verify") == 0;
    if (!verify && strcmp(what, "list") != 0) {
        fprintf(stderr, "toonify: models: unknown command '%s' (list or verify)\n", what);
        return 2;
    }
    char dirs[6][4096];
    int n = toon_cli_model_dirs(flag, dirs, 6), n_found = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        struct toon_modeldir md = {0, NULL};
        struct toon_err err;
        if (toon_modeldir_scan(dirs[i], &md, &err) != TOON_STATUS_OK) {
            if (flag) fprintf(stderr, "toonify: %s\n", err.msg);
            continue;
        }
        printf("%s:\n", dirs[i]);
        for (int k = 0; k < md.n_styles; k++) {
            const struct toon_style_entry *e = &md.styles[k];
            printf("  style %s (%s)\n", e->name, e->format);
            print_file("generator", e->bg_path);
            if (strcmp(e->head_path, e->bg_path) != 0) print_file("head", e->head_path);
            print_file("mask", e->alpha_path);
            print_file("detector", e->detector_path);
            print_file("keypoints", e->keypoints_path);
            if (e->detector_path[0] || e->keypoints_path[0])
                printf("    (the official face graphs are recognised; faces are found with the "
                       "face models in face/)\n");
            if (verify) bad |= verify_style(e);
            n_found++;
        }
        toon_modeldir_free(&md);
        struct toon_face_models *fm = NULL;
        if (toon_face_models_load(dirs[i], &fm, &err) == TOON_STATUS_OK) {
            printf("  face models: found\n");
            toon_face_models_free(fm);
        } else if (verify) {
            printf("  face models: %s\n", err.msg);
        }
    }
    if (!n_found) {
        fprintf(stderr, "toonify: no model found; run tools/fetch-models.sh or pass --model DIR\n");
        return 7;
    }
    return bad ? 7 : 0;
}
