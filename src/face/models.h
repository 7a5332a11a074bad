/* The contents of struct toon_face_models (toonify.h), shared by the files of src/face. */
#ifndef TOON_FACE_MODELS_H
#define TOON_FACE_MODELS_H

#include "face/lm68.h"
#include "nn/tfnet.h"

struct toon_face_models {
    struct toon_tfnet *det_short; /* BlazeFace short range, 128x128 */
    struct toon_tfnet *det_full;  /* BlazeFace full range, 192x192 (may be NULL) */
    struct toon_lm68 *lm;         /* face-api 68 landmarks */
    size_t bytes;
};

#endif
