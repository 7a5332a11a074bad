/* This process's resident memory, from /proc/self/status (bytes; 0 when unknown). */
#ifndef TOON_CORE_PROCMEM_H
#define TOON_CORE_PROCMEM_H

#include <stddef.h>

size_t toon_proc_rss(void);      /* VmRSS: now */
size_t toon_proc_peak_rss(void); /* VmHWM: the peak so far (what ru_maxrss reports) */

#endif
