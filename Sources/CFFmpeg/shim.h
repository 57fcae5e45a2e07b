// FFmpeg's headers, plus what Swift cannot import from them (function-like macros,
// compound constants), as inline functions.
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/audio_fifo.h>

static inline int kiln_averror(int errnum) { return AVERROR(errnum); }
static inline int kiln_averror_eof(void) { return AVERROR_EOF; }
static inline int kiln_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int kiln_averror_exit(void) { return AVERROR_EXIT; }
static inline int kiln_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t kiln_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational kiln_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int kiln_time_base(void) { return AV_TIME_BASE; }

/// The display matrix's rotation in degrees (counter-clockwise, as FFmpeg reports it), or 0.
static inline double kiln_stream_rotation(const AVStream *stream) {
    size_t size = 0;
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!matrix || size < 9 * sizeof(int32_t)) return 0;
    double angle = av_display_rotation_get((const int32_t *)matrix);
    return angle != angle ? 0 : angle; // NaN when the matrix is degenerate
}

/// Copies the display matrix (rotation) from one stream to another: copying codec
/// parameters for a remux does not carry it.
static inline int kiln_copy_display_matrix(const AVStream *from, AVStream *to) {
    size_t size = 0;
    const uint8_t *matrix = av_stream_get_side_data(from, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!matrix) return 0;
    uint8_t *copy = av_stream_new_side_data(to, AV_PKT_DATA_DISPLAYMATRIX, size);
    if (!copy) return AVERROR(ENOMEM);
    memcpy(copy, matrix, size);
    return 0;
}
