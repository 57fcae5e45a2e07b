// Loads FFmpeg's libraries on first use; see CFFmpeg.h for why.
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "CFFmpeg.h"

#define KILN_SONAME(lib, major) "lib" #lib ".so." AV_STRINGIFY(major)

int kiln_ffmpeg_load(KilnFFmpeg *table, char *error, size_t error_size) {
    // Dependencies first; RTLD_LOCAL keeps their symbols out of the process-wide scope.
    void *avutil = dlopen(KILN_SONAME(avutil, LIBAVUTIL_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL);
    void *avcodec = avutil ? dlopen(KILN_SONAME(avcodec, LIBAVCODEC_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL) : NULL;
    void *avformat = avcodec ? dlopen(KILN_SONAME(avformat, LIBAVFORMAT_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL) : NULL;
    void *avfilter = avformat ? dlopen(KILN_SONAME(avfilter, LIBAVFILTER_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!avfilter) {
        snprintf(error, error_size, "cannot load FFmpeg: %s", dlerror());
        return -1;
    }
    void *symbol;
#define KILN_FFMPEG_RESOLVE(lib, name) \
    symbol = dlsym(lib, #name); \
    if (!symbol) { snprintf(error, error_size, "FFmpeg has no %s: %s", #name, dlerror()); return -1; } \
    table->name = (__typeof__(name) *)symbol;
    KILN_FFMPEG_FUNCTIONS(KILN_FFMPEG_RESOLVE)
#undef KILN_FFMPEG_RESOLVE
    return 0;
}

static int kiln_memory_read(void *opaque, uint8_t *buffer, int size) {
    KilnMemoryInput *input = opaque;
    int64_t left = input->size - input->position;
    if (left <= 0) return AVERROR_EOF;
    int count = left < size ? (int)left : size;
    memcpy(buffer, input->data + input->position, (size_t)count);
    input->position += count;
    return count;
}

static int64_t kiln_memory_seek(void *opaque, int64_t offset, int whence) {
    KilnMemoryInput *input = opaque;
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return input->size;
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = input->position; break;
    case SEEK_END: base = input->size; break;
    default: return AVERROR(EINVAL);
    }
    if (offset > INT64_MAX - base || base + offset < 0 || base + offset > input->size) return AVERROR(EINVAL);
    input->position = base + offset;
    return input->position;
}

AVIOContext *kiln_memory_io(const KilnFFmpeg *ff, KilnMemoryInput *input) {
    const int size = 4096;
    unsigned char *buffer = ff->av_malloc(size);
    if (!buffer) return NULL;
    AVIOContext *io = ff->avio_alloc_context(buffer, size, 0, input, kiln_memory_read, NULL, kiln_memory_seek);
    if (!io) ff->av_freep(&buffer);
    return io;
}

void kiln_memory_io_free(const KilnFFmpeg *ff, AVIOContext **io) {
    if (!*io) return;
    ff->av_freep(&(*io)->buffer);
    ff->avio_context_free(io);
}

/// The display matrix of `stream` and its size, from wherever this FFmpeg keeps it.
static const uint8_t *kiln_display_matrix(const KilnFFmpeg *ff, const AVStream *stream, size_t *size) {
#if KILN_FFMPEG_CODEC_SIDE_DATA
    const AVCodecParameters *par = stream->codecpar;
    const AVPacketSideData *sd = ff->av_packet_side_data_get(par->coded_side_data, par->nb_coded_side_data,
                                                             AV_PKT_DATA_DISPLAYMATRIX);
    *size = sd ? sd->size : 0;
    return sd ? sd->data : NULL;
#else
    return ff->av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, size);
#endif
}

double kiln_stream_rotation(const KilnFFmpeg *ff, const AVStream *stream) {
    size_t size = 0;
    const uint8_t *matrix = kiln_display_matrix(ff, stream, &size);
    if (!matrix || size < 9 * sizeof(int32_t)) return 0;
    double angle = ff->av_display_rotation_get((const int32_t *)matrix);
    return angle != angle ? 0 : angle; // NaN when the matrix is degenerate
}

int kiln_copy_display_matrix(const KilnFFmpeg *ff, const AVStream *from, AVStream *to) {
    size_t size = 0;
    const uint8_t *matrix = kiln_display_matrix(ff, from, &size);
    if (!matrix) return 0;
    size_t present = 0;
    if (kiln_display_matrix(ff, to, &present)) return 0; // copied with the codec parameters (6.1+)
#if KILN_FFMPEG_CODEC_SIDE_DATA
    AVPacketSideData *copy = ff->av_packet_side_data_new(&to->codecpar->coded_side_data,
                                                         &to->codecpar->nb_coded_side_data,
                                                         AV_PKT_DATA_DISPLAYMATRIX, size, 0);
    if (!copy) return AVERROR(ENOMEM);
    memcpy(copy->data, matrix, size);
#else
    uint8_t *copy = ff->av_stream_new_side_data(to, AV_PKT_DATA_DISPLAYMATRIX, size);
    if (!copy) return AVERROR(ENOMEM);
    memcpy(copy, matrix, size);
#endif
    return 0;
}
