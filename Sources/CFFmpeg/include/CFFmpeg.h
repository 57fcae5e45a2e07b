#ifndef CFFMPEG_H
#define CFFMPEG_H
// FFmpeg's headers for its types and constants, and a table of its functions loaded with
// dlopen on first use (kiln_ffmpeg_load): linking FFmpeg directly would load ~100 libraries
// at every start, ~40 ms and ~35 MB that every image job would pay for nothing.
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>

/// Stream side data (the display matrix) moved in FFmpeg 6.1 (lavc 60.30) from the stream
/// (`av_stream_get_side_data`, removed in 7.0) to its codec parameters: the one API these
/// headers have is used, so Kiln builds on Debian 12 (5.1), Debian 13 and Ubuntu 24.04 (6.1/7.x).
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)
#define KILN_FFMPEG_CODEC_SIDE_DATA 1
#define KILN_FFMPEG_SIDE_DATA_FUNCTIONS(X) \
    X(avcodec, av_packet_side_data_get) \
    X(avcodec, av_packet_side_data_new)
#else
#define KILN_FFMPEG_CODEC_SIDE_DATA 0
#define KILN_FFMPEG_SIDE_DATA_FUNCTIONS(X) \
    X(avformat, av_stream_get_side_data) \
    X(avformat, av_stream_new_side_data)
#endif

/// Every FFmpeg function Kiln calls, with the library that defines it.
#define KILN_FFMPEG_FUNCTIONS(X) \
    X(avutil, av_channel_layout_default) \
    X(avutil, av_malloc) \
    X(avutil, av_freep) \
    X(avutil, av_channel_layout_describe) \
    X(avutil, av_color_primaries_name) \
    X(avutil, av_color_transfer_name) \
    X(avutil, av_dict_free) \
    X(avutil, av_dict_set) \
    X(avutil, av_display_rotation_get) \
    X(avutil, av_frame_alloc) \
    X(avutil, av_frame_apply_cropping) \
    X(avutil, av_frame_free) \
    X(avutil, av_frame_move_ref) \
    X(avutil, av_frame_unref) \
    X(avutil, av_get_pix_fmt_name) \
    X(avutil, av_get_sample_fmt_name) \
    X(avutil, av_log_set_level) \
    X(avutil, av_pix_fmt_desc_get) \
    X(avutil, av_strdup) \
    X(avutil, av_strerror) \
    X(avcodec, av_packet_alloc) \
    X(avcodec, av_packet_free) \
    X(avcodec, av_packet_rescale_ts) \
    X(avcodec, av_packet_unref) \
    X(avcodec, avcodec_alloc_context3) \
    X(avcodec, avcodec_find_decoder) \
    X(avcodec, avcodec_find_encoder_by_name) \
    X(avcodec, avcodec_free_context) \
    X(avcodec, avcodec_get_name) \
    X(avcodec, avcodec_open2) \
    X(avcodec, avcodec_parameters_copy) \
    X(avcodec, avcodec_parameters_from_context) \
    X(avcodec, avcodec_parameters_to_context) \
    X(avcodec, avcodec_profile_name) \
    X(avcodec, avcodec_receive_frame) \
    X(avcodec, avcodec_receive_packet) \
    X(avcodec, avcodec_send_frame) \
    X(avcodec, avcodec_send_packet) \
    X(avformat, av_find_best_stream) \
    X(avformat, av_find_input_format) \
    X(avformat, av_interleaved_write_frame) \
    X(avformat, av_read_frame) \
    X(avformat, av_seek_frame) \
    KILN_FFMPEG_SIDE_DATA_FUNCTIONS(X) \
    X(avformat, av_write_trailer) \
    X(avformat, avformat_alloc_context) \
    X(avformat, avformat_alloc_output_context2) \
    X(avformat, avformat_close_input) \
    X(avformat, avformat_find_stream_info) \
    X(avformat, avformat_free_context) \
    X(avformat, avformat_index_get_entries_count) \
    X(avformat, avformat_index_get_entry) \
    X(avformat, avformat_new_stream) \
    X(avformat, avformat_open_input) \
    X(avformat, avformat_write_header) \
    X(avformat, avio_closep) \
    X(avformat, avio_alloc_context) \
    X(avformat, avio_context_free) \
    X(avformat, avio_open2) \
    X(avfilter, av_buffersink_get_frame) \
    X(avfilter, av_buffersink_get_frame_rate) \
    X(avfilter, av_buffersink_get_h) \
    X(avfilter, av_buffersink_get_time_base) \
    X(avfilter, av_buffersink_get_w) \
    X(avfilter, av_buffersink_set_frame_size) \
    X(avfilter, av_buffersrc_add_frame_flags) \
    X(avfilter, avfilter_get_by_name) \
    X(avfilter, avfilter_graph_alloc) \
    X(avfilter, avfilter_graph_config) \
    X(avfilter, avfilter_graph_create_filter) \
    X(avfilter, avfilter_graph_free) \
    X(avfilter, avfilter_graph_parse_ptr) \
    X(avfilter, avfilter_inout_alloc) \
    X(avfilter, avfilter_inout_free)

/// The loaded functions, under their FFmpeg names.
typedef struct KilnFFmpeg {
#define KILN_FFMPEG_FIELD(lib, name) __typeof__(name) * _Nonnull name;
    KILN_FFMPEG_FUNCTIONS(KILN_FFMPEG_FIELD)
#undef KILN_FFMPEG_FIELD
} KilnFFmpeg;

/// Loads the FFmpeg libraries and fills `table`. 0 on success; otherwise -1 with the reason
/// (dlerror's text) in `error`.
int kiln_ffmpeg_load(KilnFFmpeg *_Nonnull table, char *_Nonnull error, size_t error_size);

static inline int kiln_averror(int errnum) { return AVERROR(errnum); }
static inline int kiln_averror_eof(void) { return AVERROR_EOF; }
static inline int kiln_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int kiln_averror_exit(void) { return AVERROR_EXIT; }
static inline int kiln_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t kiln_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int kiln_time_base(void) { return AV_TIME_BASE; }

/// The display matrix's rotation in degrees (counter-clockwise, as FFmpeg reports it), or 0.
double kiln_stream_rotation(const KilnFFmpeg *_Nonnull ff, const AVStream *_Nonnull stream);

/// Copies the display matrix (rotation) from one stream to another: copying codec
/// parameters for a remux does not carry it.
int kiln_copy_display_matrix(const KilnFFmpeg *_Nonnull ff, const AVStream *_Nonnull from, AVStream *_Nonnull to);

/// Bytes in memory read through a custom AVIOContext (probing without a file).
typedef struct KilnMemoryInput {
    const uint8_t *_Nullable data;
    int64_t size;
    int64_t position;
} KilnMemoryInput;

/// An AVIOContext reading `input` (which must outlive it); free with kiln_memory_io_free.
AVIOContext *_Nullable kiln_memory_io(const KilnFFmpeg *_Nonnull ff, KilnMemoryInput *_Nonnull input);
void kiln_memory_io_free(const KilnFFmpeg *_Nonnull ff, AVIOContext *_Nullable *_Nonnull io);

#endif
