/*
 * Fuzz target for the TFLite reader: opens the input as a model, walks every tensor and
 * operator through the public accessors (dequantising the small constants), then tries to
 * extract the generator from it.  Any crash, sanitizer report or leak is a bug; errors are
 * the expected outcome for almost every input.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "formats/tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct toon_tflite *m)
{
    float small[64];
    for (int i = 0; i < toon_tflite_n_tensors(m); i++) {
        struct toon_tflite_tensor t;
        if (toon_tflite_tensor(m, i, &t, NULL) != TOON_STATUS_OK) __builtin_trap();
        if (t.data && toon_tflite_tensor_n_elems(&t) <= 64)
            toon_tflite_tensor_to_f32(&t, small, NULL);
        toon_tflite_const_source(m, i);
    }
    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        if (toon_tflite_op(m, i, &op, NULL) != TOON_STATUS_OK) __builtin_trap();
        for (int j = 0; j < op.n_inputs; j++)
            if (op.inputs[j] < -1 || op.inputs[j] >= toon_tflite_n_tensors(m)) __builtin_trap();
        toon_tflite_op_option_int(m, i, TOON_TFLITE_CONV_STRIDE_W, 1);
        toon_tflite_op_option_int(m, i, TOON_TFLITE_CONV_PADDING, 0);
        toon_tflite_op_option_float(m, i, TOON_TFLITE_LEAKY_RELU_ALPHA, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t before = toon_alloc_current();
    struct toon_tflite *m = NULL;
    struct toon_err err;
    if (toon_tflite_open(data, size, &m, &err) == TOON_STATUS_OK) walk(m);
    toon_tflite_free(m);

    struct toon_gen_weights gw;
    if (toon_tflite_read_generator(data, size, &gw, &err) == TOON_STATUS_OK)
        toon_gen_weights_free(&gw);
    if (toon_alloc_current() != before) __builtin_trap(); /* a leak on some path */
    return 0;
}
