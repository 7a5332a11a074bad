/* CPU feature detection (see cpu.h).  The OS must have enabled the wide registers (XGETBV). */
#include "core/cpu.h"

#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

unsigned toon_cpu_features_detected(void)
{
    static int done;
    static unsigned features;
    if (done) return features;
    unsigned a, b, c, d;
    unsigned f = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE)) {
        unsigned long long xcr0 = xgetbv0();
        int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
        int fma = (c & bit_FMA) != 0;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            if (ymm && fma && (b & bit_AVX2)) f |= TOON_CPU_AVX2;
            unsigned need = bit_AVX512F | bit_AVX512BW | bit_AVX512VL | bit_AVX512DQ;
            if (zmm && (f & TOON_CPU_AVX2) && (b & need) == need) {
                f |= TOON_CPU_AVX512;
                if (c & bit_AVX512VNNI) f |= TOON_CPU_AVX512_VNNI;
                unsigned a1, b1, c1, d1;
                if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) && (a1 & (1u << 5)))
                    f |= TOON_CPU_AVX512_BF16;
            }
        }
    }
    features = f;
    done = 1;
    return f;
}

unsigned toon_cpu_cap(unsigned f, const char *cap)
{
    if (!cap || !*cap) return f;
    if (strcmp(cap, "none") == 0) return 0;
    if (strcmp(cap, "avx2") == 0) return f & TOON_CPU_AVX2;
    if (strcmp(cap, "avx512") == 0) return f & (TOON_CPU_AVX2 | TOON_CPU_AVX512);
    return f;
}

static unsigned g_features;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void read_cap(void)
{
    g_features = toon_cpu_cap(toon_cpu_features_detected(), getenv("TOONIFY_ISA"));
}

unsigned toon_cpu_features(void)
{
    pthread_once(&g_once, read_cap);
    return g_features;
}

const char *toon_cpu_isa_name(unsigned f)
{
    if (f & TOON_CPU_AVX512) return "avx512";
    if (f & TOON_CPU_AVX2) return "avx2";
    return "none";
}

void toon_cpu_describe(unsigned f, char *buf, int len)
{
    snprintf(buf, (size_t)len, "%s%s%s%s%s", f ? "" : "baseline x86-64",
             f & TOON_CPU_AVX2 ? "avx2 fma " : "",
             f & TOON_CPU_AVX512 ? "avx512f avx512bw avx512vl avx512dq " : "",
             f & TOON_CPU_AVX512_BF16 ? "avx512_bf16 " : "",
             f & TOON_CPU_AVX512_VNNI ? "avx512_vnni " : "");
    size_t n = strlen(buf);
    if (n && buf[n - 1] == ' ') buf[n - 1] = 0;
}
