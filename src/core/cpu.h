/*
 * CPU features, read once with CPUID/XGETBV.  Kernels are chosen at run time from these.
 * TOONIFY_ISA=none|avx2|avx512 caps what is used (tests use it to run every path on one CPU);
 * it is read once, at the first call.
 */
#ifndef TOON_CORE_CPU_H
#define TOON_CORE_CPU_H

enum toon_cpu_feature {
    TOON_CPU_AVX2 = 1u << 0,   /* with FMA */
    TOON_CPU_AVX512 = 1u << 1, /* F, BW, VL, DQ */
    TOON_CPU_AVX512_BF16 = 1u << 2,
    TOON_CPU_AVX512_VNNI = 1u << 3,
};

unsigned toon_cpu_features(void); /* after the TOONIFY_ISA cap */
/* Features f capped as TOONIFY_ISA=cap would (NULL or "": no cap). */
unsigned toon_cpu_cap(unsigned f, const char *cap);
unsigned toon_cpu_features_detected(void);        /* what the CPU has */
const char *toon_cpu_isa_name(unsigned features); /* "avx512", "avx2" or "none" */
/* Writes a description such as "avx2 fma avx512f avx512bw avx512vl avx512dq avx512_bf16". */
void toon_cpu_describe(unsigned features, char *buf, int len);

#endif
