/*
 * The `toonify` command: `toonify [options] INPUT... -o OUTPUT` converts photos; subcommands
 * (`toonify info`, ...) do the rest.  See `toonify --help`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/parallel.h"

int main(int argc, char **argv)
{
    toon_omp_tame_spinning(argv);
    if (argc > 1 && strcmp(argv[1], "info") == 0) return toon_cli_info(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "identify") == 0) return toon_cli_identify(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "models") == 0) return toon_cli_models(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "faces") == 0) return toon_cli_faces(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "convert") == 0) return toon_cli_convert(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "serve") == 0) return toon_cli_serve(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "worker") == 0) return toon_cli_worker(argc - 1, argv + 1);
    return toon_cli_convert(argc, argv);
}
