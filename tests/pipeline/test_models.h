/* The generator and the face models the pipeline tests run on, loaded once per test program. */
#ifndef TOON_TEST_PIPELINE_MODELS_H
#define TOON_TEST_PIPELINE_MODELS_H

#include <stdio.h>

#include "test.h"
#include "toonify/toonify.h"

static struct toon_model *g_model;
static struct toon_face_models *g_fm;

static void setup(void)
{
    struct toon_err err;
    if (!g_model) {
        char path[4096];
        snprintf(path, sizeof path, "%s/models/whitebox_cartoon_gan_fp16.tflite",
                 test_shared_dir());
        if (toon_model_load(path, &g_model, &err) != TOON_STATUS_OK)
            TEST_FAIL_("%s: %s", path, err.msg);
    }
    if (!g_fm && toon_face_models_load(TOON_FACE_MODEL_DIR, &g_fm, &err) != TOON_STATUS_OK)
        TEST_FAIL_("face models: %s", err.msg);
}

#endif
