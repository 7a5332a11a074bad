/* Fuzz target: the WebP path of the streaming image reader (see fuzz_decode.h). */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return toon_fuzz_decode(data, size, TOON_FORMAT_WEBP);
}
