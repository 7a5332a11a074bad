/*
 * Memory admission: a job runs only while the baseline (the idle process, models loaded) plus
 * the planned peaks of the running jobs plus its own fits under the limit less a reserve (HTTP
 * threads, request buffers, uploads being received).
 *
 * A job's planned peak is toon_convert_plan's exact heap figure plus a margin for what the
 * libraries allocate outside the counting allocator (oneDNN's scratchpads and JIT code, OpenMP
 * thread stacks, libc arenas) plus the input file, which is mapped while the job runs.  The
 * margin was measured with `toonify -v` (VmHWM against the plan, 512 px photo, 2 threads):
 * +0 MB at 1024 px, +5 MB at 2048 px, +14 MB at 4096 px beyond the plan and the CLI's 6 MB
 * library allowance; it grows with the width, so it is modelled as 8 MB + 6 KiB per output
 * column (32 MB at 4096 px).  A first run of tests/service/test_memory_cgroup.py (two workers,
 * 300 MB cgroup) peaked at 256 MB of RSS, more than the plans said: glibc kept freed buffers in
 * its per-thread arenas.  The server now fixes the mmap threshold (server.c) so they go back to
 * the kernel; the margin stays generous until that is measured again.
 */
#include "service/internal.h"

/* What a job costs beyond its plan: 8 MiB, and 6 KiB per output column. */
#define MARGIN_FIXED      ((size_t)8 << 20)
#define MARGIN_PER_COLUMN ((size_t)6144)

size_t toon_admission_margin(int out_w)
{
    return MARGIN_FIXED + (size_t)(out_w > 0 ? out_w : 0) * MARGIN_PER_COLUMN;
}

enum toon_status toon_admission_cost(const struct toon_service *svc, const struct toon_model *m,
                                     const struct toon_image_info *info,
                                     const struct toon_convert_params *cp, size_t in_bytes,
                                     int *out_w, int *out_h, size_t *plan, size_t *cost,
                                     struct toon_err *err)
{
    (void)svc;
    size_t need;
    enum toon_status st = toon_convert_plan(m, info, cp, out_w, out_h, &need, err);
    if (st != TOON_STATUS_OK) return st;
    *plan = need;
    *cost = need + toon_admission_margin(*out_w) + in_bytes;
    return TOON_STATUS_OK;
}

size_t toon_admission_room(struct toon_service *svc)
{
    pthread_mutex_lock(&svc->mu);
    size_t base = svc->baseline;
    pthread_mutex_unlock(&svc->mu);
    return svc->limit > svc->reserve + base ? svc->limit - svc->reserve - base : 0;
}

int toon_admission_largest(const struct toon_service *svc, const struct toon_model *m,
                           const struct toon_image_info *info, const struct toon_convert_params *cp,
                           size_t in_bytes, size_t room, int upto)
{
    (void)svc;
    return toon_convert_largest_size(m, info, cp, upto, room, MARGIN_FIXED + in_bytes,
                                     MARGIN_PER_COLUMN);
}
