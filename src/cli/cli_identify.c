/* `toonify identify FILE...`: what the decoder sees in an image's header (format, size,
 * orientation), one line per file, without decoding the pixels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int toon_cli_identify(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: toonify identify FILE...\n", stderr);
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        struct toon_err err;
        struct toon_image_info info;
        enum toon_status st = toon_cli_read_file(argv[i], &data, &len, &err);
        if (st == TOON_STATUS_OK) st = toon_probe(data, len, &info, &err);
        free(data);
        if (st != TOON_STATUS_OK) {
            fprintf(stderr, "toonify: %s: %s\n", argv[i], err.msg);
            if (!rc) rc = toon_status_exit_code(st);
            continue;
        }
        printf("%s: %s %dx%d channels=%d depth=%d orientation=%d%s\n", argv[i],
               toon_format_name(info.format), info.w, info.h, info.channels, info.bit_depth,
               info.orientation, info.progressive ? " progressive" : "");
    }
    return rc;
}
