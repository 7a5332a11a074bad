/*
 * The whole process heap, measured: live bytes and their high-water mark over every malloc of
 * the program, the codec libraries' included (libjpeg and libwebp call malloc directly, so the
 * counting allocator of core/alloc.h cannot see them).  The plans of src/image are checked
 * against this measure by test_image_heap and by the decoder fuzz targets.
 *
 * In a plain build, heap_meter.c replaces the C library's malloc family (glibc allows a program
 * to) with wrappers that count the usable size of each block.  Under AddressSanitizer, which
 * owns malloc, it counts through the sanitizer's malloc and free hooks instead.  Link
 * heap_meter.c into the executable itself (not through a static library, where the linker
 * could leave the malloc replacement out).
 *
 * Thread-safe; the peak is one for the whole process.
 */
#ifndef TOON_TESTS_HEAP_METER_H
#define TOON_TESTS_HEAP_METER_H

#include <stddef.h>

/* Whether the meter sees every allocation in this build (0: it measures nothing). */
int toon_heap_meter_active(void);

/* Live heap bytes now. */
size_t toon_heap_meter_current(void);

/* Starts a measurement: the peak becomes the live bytes now, which are returned. */
size_t toon_heap_meter_start(void);

/* The highest live heap bytes since toon_heap_meter_start(). */
size_t toon_heap_meter_peak(void);

#endif
