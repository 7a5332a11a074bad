/* `toonify info`: version, CPU features, the kernels toonify chooses here, the model found. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/cpu.h"

int toon_cli_info(int argc, char **argv)
{
    static const struct option longopts[] = {{"model", required_argument, 0, 'm'},
                                             {"models", required_argument, 0, 'm'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *model_flag = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
        if (c == 'm') {
            model_flag = optarg;
        } else {
            fputs("usage: toonify info [--model|--models PATH]\n", c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    char desc[256];
    unsigned det = toon_cpu_features_detected(), used = toon_cpu_features();
    printf("version: %s\n", TOONIFY_VERSION);
    toon_cpu_describe(det, desc, sizeof desc);
    printf("cpu features: %s\n", desc);
    printf("isa: %s%s\n", toon_cpu_isa_name(used), used != det ? " (capped by TOONIFY_ISA)" : "");
    printf("threads: %d\n", toon_get_threads());
    printf("fast precision: %s\n",
           (used & TOON_CPU_AVX512_BF16)
               ? "bf16 dot products (AVX512-BF16), fp32 accumulation, on every layer but the "
                 "encoder's 3x3 stride-1 layers and the last"
               : "not available on this CPU: --precision fast runs the fp32 kernels");

    char path[4096], tried[2048];
    if (!toon_cli_find_model(model_flag, path, sizeof path, tried, sizeof tried)) {
        printf("model: none found (looked in: %s)\n", tried);
        printf("kernels: unknown until a model is found\n");
        return 7;
    }
    struct toon_model *m = NULL;
    struct toon_err err;
    enum toon_status st = toon_model_load(path, &m, &err);
    if (st != TOON_STATUS_OK) {
        printf("model: %s: %s\n", path, err.msg);
        return toon_status_exit_code(st);
    }
    printf("model: %s (%s)\n", path, toon_model_description(m));
    char k[512];
    toon_describe_kernels(m, TOON_PRECISION_FP32, k, sizeof k);
    printf("kernels: %s\n", k);
    toon_describe_kernels(m, TOON_PRECISION_FAST, k, sizeof k);
    printf("kernels (fast): %s\n", k);
    toon_model_free(m);
    return 0;
}
