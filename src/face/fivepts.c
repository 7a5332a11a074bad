/*
 * The five alignment points from the 68 landmarks (spec/PIPELINE.md §5.3): each eye centre is
 * refined to its pupil as DCT-Net's find_pupil does (face/pupil.c); if either eye's box is
 * invalid, both eyes use the mean of their points.  Nose tip = 30, mouth corners = 48 and 54.
 * Official mode takes 5 of each eye's 6 points, as the reference does; hd takes all six.
 */
#include <string.h>

#include "core/alloc.h"
#include "face/face.h"
#include "face/pupil.h"

size_t toon_face_five_points_plan_bytes(const struct toon_face *face)
{
    (void)face;
    return toon_pupil_scratch_bytes() + toon_alloc_overhead();
}

/* The mean of an eye's points, summed in double as numpy's mean is. */
static void eye_mean(const float (*pts)[2], int n, float out[2])
{
    for (int k = 0; k < 2; k++) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += pts[i][k];
        out[k] = (float)(sum / n);
    }
}

enum toon_status toon_face_five_points(const struct toon_image *img, struct toon_face *face,
                                       int official, struct toon_err *err)
{
    int n = official ? 5 : 6;
    const float(*eye[2])[2] = {(const float(*)[2])face->lm[36], (const float(*)[2])face->lm[42]};
    void *scratch = toon_malloc(toon_pupil_scratch_bytes());
    if (!scratch) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    float ref[2][2];
    int ok = toon_pupil_find(img, eye[0], n, scratch, ref[0]) &&
             toon_pupil_find(img, eye[1], n, scratch, ref[1]);
    toon_free(scratch);
    for (int e = 0; e < 2; e++) {
        if (ok)
            memcpy(face->pts5[e], ref[e], sizeof ref[e]);
        else
            eye_mean(eye[e], n, face->pts5[e]);
    }
    static const int idx[3] = {30, 48, 54};
    for (int k = 0; k < 3; k++) memcpy(face->pts5[2 + k], face->lm[idx[k]], sizeof face->lm[0]);
    return TOON_STATUS_OK;
}
