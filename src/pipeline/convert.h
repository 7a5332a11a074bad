/* Internal pieces of the conversion shared by the plain and the compound pipelines. */
#ifndef TOON_PIPELINE_CONVERT_H
#define TOON_PIPELINE_CONVERT_H

#include "toonify/toonify.h"

/* Size, strength and format checks common to every mode. */
enum toon_status toon_convert_params_check(const struct toon_convert_params *p,
                                           struct toon_err *err);

#endif
