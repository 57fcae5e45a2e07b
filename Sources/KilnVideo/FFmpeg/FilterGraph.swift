import CFFmpeg

/// A libavfilter graph from one buffer source to one buffer sink, described in the CLI's
/// filter syntax (`transpose=clock,scale=1080:1920,format=yuv420p`). Owns the graph.
final class FilterGraph {
    private let graph: UnsafeMutablePointer<AVFilterGraph>
    let source: UnsafeMutablePointer<AVFilterContext>
    let sink: UnsafeMutablePointer<AVFilterContext>

    /// A video graph fed by frames like those `decoder` produces, or cut from them to `size`
    /// (a `FrameCrop`'s window).
    convenience init(video decoder: Decoder, timeBase: AVRational, size: (width: Int, height: Int)? = nil,
                     description: String) throws(AVFailure) {
        let c = decoder.context.pointee
        let aspect = c.sample_aspect_ratio.num > 0 ? c.sample_aspect_ratio : AVRational(num: 1, den: 1)
        let (width, height) = size ?? (Int(c.width), Int(c.height))
        let arguments = "video_size=\(width)x\(height):pix_fmt=\(c.pix_fmt.rawValue)"
            + ":time_base=\(timeBase.num)/\(timeBase.den):pixel_aspect=\(aspect.num)/\(aspect.den)"
        try self.init(source: "buffer", sink: "buffersink", arguments: arguments, description: description)
    }

    /// An audio graph fed by frames like those `decoder` produces.
    convenience init(audio decoder: Decoder, timeBase: AVRational, description: String) throws(AVFailure) {
        let c = decoder.context
        var layout = [CChar](repeating: 0, count: 64)
        var channels = c.pointee.ch_layout
        if channels.order == AV_CHANNEL_ORDER_UNSPEC {
            ff.av_channel_layout_default(&channels, c.pointee.ch_layout.nb_channels)
        }
        _ = ff.av_channel_layout_describe(&channels, &layout, layout.count)
        let format = ff.av_get_sample_fmt_name(c.pointee.sample_fmt).map { String(cString: $0) } ?? "fltp"
        let arguments = "time_base=\(timeBase.num)/\(timeBase.den):sample_rate=\(c.pointee.sample_rate)"
            + ":sample_fmt=\(format):channel_layout=\(string(from: layout))"
        try self.init(source: "abuffer", sink: "abuffersink", arguments: arguments, description: description)
    }

    private init(source sourceName: String, sink sinkName: String, arguments: String, description: String)
        throws(AVFailure)
    {
        guard let graph = ff.avfilter_graph_alloc() else { throw AVFailure("avfilter_graph_alloc", code: kiln_averror(ENOMEM)) }
        var source: UnsafeMutablePointer<AVFilterContext>?
        var sink: UnsafeMutablePointer<AVFilterContext>?
        let created: (source: UnsafeMutablePointer<AVFilterContext>, sink: UnsafeMutablePointer<AVFilterContext>)
        do throws(AVFailure) {
            try check(ff.avfilter_graph_create_filter(&source, ff.avfilter_get_by_name(sourceName), "in", arguments, nil, graph),
                      "\(sourceName) (\(arguments))")
            try check(ff.avfilter_graph_create_filter(&sink, ff.avfilter_get_by_name(sinkName), "out", nil, nil, graph),
                      sinkName)
            guard let source, let sink else { throw AVFailure("avfilter_graph_create_filter", code: kiln_averror(ENOMEM)) }
            created = (source, sink)
            // The in/out lists name the graph's open ends; parsing consumes them and leaves
            // what it did not use in the variables, which are freed here either way.
            var outputsList = ff.avfilter_inout_alloc()
            var inputsList = ff.avfilter_inout_alloc()
            defer {
                ff.avfilter_inout_free(&outputsList)
                ff.avfilter_inout_free(&inputsList)
            }
            guard let outputs = outputsList, let inputs = inputsList else {
                throw AVFailure("avfilter_inout_alloc", code: kiln_averror(ENOMEM))
            }
            outputs.pointee.name = ff.av_strdup("in")
            outputs.pointee.filter_ctx = source
            inputs.pointee.name = ff.av_strdup("out")
            inputs.pointee.filter_ctx = sink
            try check(ff.avfilter_graph_parse_ptr(graph, description, &inputsList, &outputsList, nil),
                      "filter graph \"\(description)\"")
            try check(ff.avfilter_graph_config(graph, nil), "filter graph \"\(description)\"")
        } catch {
            var toFree: UnsafeMutablePointer<AVFilterGraph>? = graph
            ff.avfilter_graph_free(&toFree)
            throw error
        }
        self.graph = graph
        self.source = created.source
        self.sink = created.sink
    }

    deinit {
        var toFree: UnsafeMutablePointer<AVFilterGraph>? = graph
        ff.avfilter_graph_free(&toFree)
    }

    var outputTimeBase: AVRational { ff.av_buffersink_get_time_base(sink) }
    var outputFrameRate: AVRational { ff.av_buffersink_get_frame_rate(sink) }
    var outputWidth: Int32 { ff.av_buffersink_get_w(sink) }
    var outputHeight: Int32 { ff.av_buffersink_get_h(sink) }

    /// Makes the sink hand out audio frames of exactly `samples` (AAC wants 1024).
    func setFrameSize(_ samples: Int32) { ff.av_buffersink_set_frame_size(sink, UInt32(samples)) }

    /// Feeds a frame (nil: end of stream); the frame is emptied, or with `keep` left as it was
    /// (the graph takes a reference of its own: no pixels are copied).
    func push(_ frame: Frame?, keep: Bool = false) throws(AVFailure) {
        let flags = keep ? Int32(AV_BUFFERSRC_FLAG_KEEP_REF) : 0
        try check(ff.av_buffersrc_add_frame_flags(source, frame?.pointer, flags), "av_buffersrc_add_frame")
    }

    /// The next filtered frame, or false when the graph needs input or is drained.
    func pull(into frame: Frame) throws(AVFailure) -> Bool {
        let code = ff.av_buffersink_get_frame(sink, frame.pointer)
        if code == kiln_averror_eagain() || code == kiln_averror_eof() { return false }
        try check(code, "av_buffersink_get_frame")
        return true
    }
}
