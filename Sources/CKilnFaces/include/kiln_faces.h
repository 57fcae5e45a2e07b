#ifndef KILN_FACES_H
#define KILN_FACES_H
// Frontal faces in a grey picture, found with dlib's built-in detector (HOG features and a
// linear classifier, its model compiled into the library: no model file to ship or find).
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct KilnFace {
    int32_t x, y, width, height;
    /// The detector's confidence: above 0 is a face by its own threshold.
    double score;
} KilnFace;

/// Finds frontal faces about 80 pixels across or larger in `grey` (`width` x `height`, rows
/// `stride` bytes apart): writes the first `capacity` to `faces` and returns how many it found,
/// or -1 when the detector failed. Safe to call from several threads at once.
int kiln_find_faces(const uint8_t *_Nonnull grey, int32_t width, int32_t height, ptrdiff_t stride,
                    KilnFace *_Nonnull faces, int32_t capacity);

#ifdef __cplusplus
}
#endif
#endif
