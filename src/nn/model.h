/* Internal access to a loaded model's weights (tests, planners). */
#ifndef TOON_NN_MODEL_H
#define TOON_NN_MODEL_H

#include "formats/genweights.h"
#include "toonify/toonify.h"

const struct toon_gen_weights *toon_model_weights(const struct toon_model *m);

#endif
