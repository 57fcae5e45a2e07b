#include "kiln_faces.h"

#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace {

// Unpacking the detector's model takes ~300 ms: done once, and each thread works on its own
// copy (a detector keeps scratch state while it runs, so one may not serve two threads).
const dlib::frontal_face_detector &prototype() {
    static const dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
    return detector;
}

dlib::frontal_face_detector &detector() {
    thread_local dlib::frontal_face_detector copy = prototype();
    return copy;
}

} // namespace

extern "C" int kiln_find_faces(const uint8_t *grey, int32_t width, int32_t height, ptrdiff_t stride,
                               KilnFace *faces, int32_t capacity) {
    if (width <= 0 || height <= 0 || stride < width) return -1;
    try {
        dlib::array2d<unsigned char> picture(height, width);
        for (int32_t y = 0; y < height; ++y) std::memcpy(&picture[y][0], grey + y * stride, size_t(width));
        std::vector<std::pair<double, dlib::rectangle>> found;
        detector()(picture, found, 0.0);
        std::sort(found.begin(), found.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
        int32_t count = 0;
        for (const auto &[score, box] : found) {
            if (count >= capacity) break;
            faces[count++] = KilnFace{int32_t(box.left()), int32_t(box.top()), int32_t(box.width()),
                                      int32_t(box.height()), score};
        }
        return int(found.size());
    } catch (...) {
        return -1;
    }
}
