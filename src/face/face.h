/*
 * Faces: detection, 68 landmarks, five points and similarity alignment (spec/PIPELINE.md §5,
 * spec/MODELS.md).  This is toon_face's internal API, used by the compound pipeline and the
 * `toonify faces` command.
 *
 * struct toon_face_models (declared in toonify.h) holds the detectors (BlazeFace short and
 * full range) and the face-api 68-point landmark net, all loaded once from a directory and
 * immutable afterwards: any number of threads may use one set at once.
 *
 * Detection runs BlazeFace over the whole image and over overlapping square tiles at two
 * finer scales, so that faces from a quarter of the frame down to about 1/40 of it are seen
 * at a size the network was trained on; the candidates are merged with weighted non-maximum
 * suppression.  Coordinates are image pixels throughout (x right, y down).
 */
#ifndef TOON_FACE_FACE_H
#define TOON_FACE_FACE_H

#include <stddef.h>

#include "toonify/toonify.h"

#define TOON_FACE_MAX 64

struct toon_face {
    float x0, y0, x1, y1; /* detector box */
    float score;          /* 0..1 */
    float kp[6][2];       /* BlazeFace keypoints: eyes, nose tip, mouth, ears */
    float lm[68][2];      /* the 68 landmarks (iBUG 300-W order), when has_landmarks */
    float pts5[5][2];     /* left eye, right eye, nose, mouth left, mouth right (image view) */
    int has_landmarks;
};

/* Faces found in an RGB image, best first up to max; *n_out is the count. */
enum toon_status toon_face_detect(const struct toon_face_models *fm, const struct toon_image *img,
                                  struct toon_face *faces, int max, int *n_out,
                                  struct toon_err *err);
/* Heap bytes toon_face_detect allocates at most for an image of this size. */
size_t toon_face_detect_plan_bytes(const struct toon_face_models *fm, int w, int h);

/*
 * The 68 landmarks of one detected face (face->lm), from the face-api net run on the box
 * crop.  official: truncates the coordinates to integers as the reference does.
 */
enum toon_status toon_face_landmarks(const struct toon_face_models *fm,
                                     const struct toon_image *img, struct toon_face *face,
                                     int official, struct toon_err *err);
size_t toon_face_landmarks_plan_bytes(const struct toon_face_models *fm);

/*
 * The five alignment points (face->pts5) from the landmarks, eyes refined to the pupils.
 * official: each eye from 5 of its 6 points (the reference's quirk); else all six.
 */
enum toon_status toon_face_five_points(const struct toon_image *img, struct toon_face *face,
                                       int official, struct toon_err *err);
size_t toon_face_five_points_plan_bytes(const struct toon_face *face);

/* The 288x288 template of the five points (PIPELINE.md §5.4). */
extern const float toon_face_template[5][2];
#define TOON_FACE_CROP 288

/*
 * Least-squares similarity (scale, rotation, translation; no reflection) mapping src[i] to
 * dst[i]: dst = [a -b; b a] src + [tx ty].  m = {a, -b, tx, b, a, ty} (a 2x3 affine matrix).
 * Returns 0 when the points are degenerate.
 */
int toon_face_similarity(const float (*src)[2], const float (*dst)[2], int n, double m[6]);
/* The generated feathered-ellipse mask: [n][n] floats in 0..1. */
void toon_face_mask_generate(float *mask, int n);

/* Heap bytes the loaded models hold. */
size_t toon_face_models_bytes(const struct toon_face_models *fm);

#endif
