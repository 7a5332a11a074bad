/* Internal pieces of the conversion shared by the plain and the compound pipelines. */
#ifndef TOON_PIPELINE_CONVERT_H
#define TOON_PIPELINE_CONVERT_H

#include "image/codec.h"
#include "nn/generator.h"
#include "toonify/toonify.h"

/* toon_convert from encoded bytes or from the caller's pixels (toon_convert_pixels). */
enum toon_status toon_convert_source(const struct toon_model *m, const struct toon_source *src,
                                     const struct toon_convert_params *p, toon_write_fn sink,
                                     void *sink_ctx, struct toon_convert_report *report,
                                     struct toon_err *err);

/* Size, strength and format checks common to every mode. */
enum toon_status toon_convert_params_check(const struct toon_convert_params *p,
                                           struct toon_err *err);

/* The output size for p->size (the longest side; 0 keeps the input's), aspect kept. */
void toon_convert_output_size(const struct toon_image_info *info, int size, int *ow, int *oh);

/* The executor's parameters for the generator parameters of a conversion. */
struct toon_genx_params toon_convert_genx_params(const struct toon_generator_params *p);

/* Monotonic seconds, for the reports' timings. */
double toon_convert_now_s(void);

/* The heap a conversion uses, counted on its own even while others run: an accounting scope
 * (core/alloc.h) entered for the conversion's duration. */
struct toon_convert_meter {
    struct toon_alloc_scope *scope, *outer;
    size_t base; /* the process's live bytes at the start, when no scope could be made */
};
void toon_convert_meter_start(struct toon_convert_meter *m);
/* Leaves the scope and returns the conversion's high-water mark. */
size_t toon_convert_meter_stop(struct toon_convert_meter *m);

#endif
