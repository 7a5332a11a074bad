/*
 * The `toonify` command: `toonify [options] INPUT... -o OUTPUT` converts photos; subcommands
 * (`toonify info`, ...) do the rest.  See `toonify --help`.
 *
 * SIGPIPE is ignored: a reader that goes away (`toonify - -o - | head -c 10`) makes a write
 * fail with EPIPE, which the command reports with its exit code, instead of killing it with a
 * temporary file still on disk.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    toon_cli_omp_tame_spinning(argv);
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "info") == 0) return toon_cli_info(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "identify") == 0) return toon_cli_identify(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "models") == 0) return toon_cli_models(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "faces") == 0) return toon_cli_faces(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "convert") == 0) return toon_cli_convert(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "serve") == 0) return toon_cli_serve(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "worker") == 0) return toon_cli_worker(argc - 1, argv + 1);
    return toon_cli_convert(argc, argv);
}
