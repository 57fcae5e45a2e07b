import CFFmpeg
import Foundation
import KilnCore

/// Measures a video from its packets alone (nothing is decoded): bitrates from packet sizes and
/// timestamps, key-frame spacing from the packet index, and for H.264 whether each key frame is
/// an IDR picture (x264's open GOP marks recovery-point I frames as sync samples, so the key flag
/// alone does not tell). One pass over the file.
enum StreamMeter {
    static func measure(_ demuxer: Demuxer, path: String) throws(AVFailure) -> VideoMeasurement {
        guard let videoIndex = demuxer.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw AVFailure("measure", message: "no video stream")
        }
        let audioIndex = demuxer.bestStream(AVMEDIA_TYPE_AUDIO)
        let videoStream = demuxer.streams[videoIndex]
        let nal = NALReader(videoStream.pointee.codecpar)
        var video = Meter(timeBase: av_q2d(videoStream.pointee.time_base), window: VideoOutputSpec.peakWindow)
        var audio = audioIndex.map { Meter(timeBase: av_q2d(demuxer.streams[$0].pointee.time_base), window: 0) }
        var keyframes = 0
        var idr = 0
        var keyTimes = KeyframeSpacing()
        let packet = try Packet()
        while try demuxer.read(into: packet) {
            defer { packet.unref() }
            let p = packet.pointer.pointee
            let index = Int(p.stream_index)
            if index == videoIndex {
                video.add(packet: p)
                if (p.flags & AV_PKT_FLAG_KEY) != 0 {
                    keyframes += 1
                    keyTimes.key(at: video.seconds(p.pts == kiln_nopts_value() ? p.dts : p.pts))
                    if let nal, let data = p.data, nal.containsIDR(UnsafeBufferPointer(start: data, count: Int(p.size))) {
                        idr += 1
                    }
                }
            } else if index == audioIndex {
                audio?.add(packet: p)
            }
        }
        keyTimes.end(at: video.end)
        let layout = (try? MP4Layout.read(path: path)) ?? nil
        return VideoMeasurement(
            videoBitRate: video.averageBitRate, peakBitRate: video.peakBitRate, keyframes: keyframes,
            idrKeyframes: nal == nil ? nil : idr, maxKeyframeInterval: keyTimes.longest,
            audioBitRate: audio?.averageBitRate, moovFirst: layout?.moovFirst, editLists: layout?.editLists)
    }
}

/// Bits over time for one stream: the average, and the most bits in any `window` seconds.
private struct Meter {
    let timeBase: Double
    let window: Double
    private(set) var bytes: Int64 = 0
    private var first: Double?
    private(set) var end = 0.0
    private var recent: [(time: Double, bytes: Int64)] = []
    private var head = 0
    private var inWindow: Int64 = 0
    private var peakBytes: Int64 = 0

    init(timeBase: Double, window: Double) {
        self.timeBase = timeBase
        self.window = window
    }

    func seconds(_ timestamp: Int64) -> Double { Double(timestamp) * timeBase }

    mutating func add(packet p: AVPacket) {
        let stamp = p.dts != kiln_nopts_value() ? p.dts : p.pts
        guard stamp != kiln_nopts_value() else { return }
        let time = seconds(stamp)
        // The span runs on presentation times: decode times of B-frame streams start early.
        let shown = p.pts != kiln_nopts_value() ? seconds(p.pts) : time
        first = min(first ?? shown, shown)
        end = max(end, shown + seconds(max(0, p.duration)))
        bytes += Int64(p.size)
        guard window > 0 else { return }
        recent.append((time, Int64(p.size)))
        inWindow += Int64(p.size)
        while head < recent.count, recent[head].time <= time - window {
            inWindow -= recent[head].bytes
            head += 1
        }
        // Drop what left the window now and then, so a long stream keeps a short list.
        if head > 4096 {
            recent.removeFirst(head)
            head = 0
        }
        peakBytes = max(peakBytes, inWindow)
    }

    var duration: Double { max(0.001, end - (first ?? 0)) }

    var averageBitRate: Int { Int((Double(bytes) * 8 / duration).rounded()) }

    /// Per second over the window; a stream shorter than the window is its own average.
    var peakBitRate: Int {
        duration <= window ? averageBitRate : Int((Double(peakBytes) * 8 / window).rounded())
    }
}

/// The longest stretch without a key frame, the last one to the end included.
private struct KeyframeSpacing {
    private var last: Double?
    private(set) var longest = 0.0

    mutating func key(at time: Double) {
        if let last { longest = max(longest, time - last) }
        last = max(last ?? time, time)
    }

    mutating func end(at time: Double) {
        if let last { longest = max(longest, time - last) } else { longest = time }
    }
}

/// Finds IDR slices (NAL unit type 5) in H.264 packets, in MP4's length-prefixed form or Annex B.
private struct NALReader {
    /// Bytes of each NAL unit's length prefix; nil for Annex B start codes.
    let lengthSize: Int?

    init?(_ parameters: UnsafeMutablePointer<AVCodecParameters>) {
        guard parameters.pointee.codec_id == AV_CODEC_ID_H264 else { return nil }
        let extra = parameters.pointee.extradata
        if let extra, parameters.pointee.extradata_size >= 7, extra[0] == 1 {
            lengthSize = Int(extra[4] & 3) + 1
        } else {
            lengthSize = nil
        }
    }

    func containsIDR(_ data: UnsafeBufferPointer<UInt8>) -> Bool {
        if let lengthSize {
            var offset = 0
            while offset + lengthSize < data.count {
                var length = 0
                for i in 0..<lengthSize { length = length << 8 | Int(data[offset + i]) }
                let start = offset + lengthSize
                guard length > 0, start < data.count else { return false }
                if data[start] & 0x1F == 5 { return true }
                offset = start + length
            }
            return false
        }
        var i = 0
        while i + 3 < data.count {
            if data[i] == 0, data[i + 1] == 0, data[i + 2] == 1 {
                if data[i + 3] & 0x1F == 5 { return true }
                i += 3
            } else {
                i += 1
            }
        }
        return false
    }
}

/// The top-level layout of an MP4 or MOV file, read from box headers only: whether `moov` comes
/// before `mdat`, whether any track carries an edit list (`moov/trak/edts/elst`), and whether a
/// track's samples are encrypted (an `encv` or `enca` sample entry: CENC, DRM).
enum MP4Layout {
    struct Layout {
        let moovFirst: Bool
        let editLists: Bool
        let encrypted: Bool
    }

    /// Nil when the file is not made of MP4 boxes.
    static func read(path: String) throws -> Layout? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        let size = Int64(try file.seekToEnd())
        var moovAt: Int64?
        var mdatAt: Int64?
        var found: Set<String> = []
        var offset: Int64 = 0
        while offset + 8 <= size {
            guard let box = try header(file, at: offset, limit: size) else { return nil }
            if box.type == "moov" {
                moovAt = moovAt ?? offset
                try collect(["elst", "encv", "enca"], in: file, from: offset + box.headerSize, to: offset + box.size, into: &found)
            }
            if box.type == "mdat" { mdatAt = mdatAt ?? offset }
            offset += box.size
        }
        guard let moovAt else { return nil }
        return Layout(moovFirst: mdatAt.map { moovAt < $0 } ?? true, editLists: found.contains("elst"),
                      encrypted: found.contains("encv") || found.contains("enca"))
    }

    /// The `wanted` box types found under a track: down its containers to the sample entries
    /// (`stsd` holds them after its version, flags and entry count).
    private static func collect(_ wanted: Set<String>, in file: FileHandle, from start: Int64, to end: Int64,
                                into found: inout Set<String>) throws {
        var offset = start
        while offset + 8 <= end {
            guard let box = try header(file, at: offset, limit: end) else { return }
            if wanted.contains(box.type) { found.insert(box.type) }
            switch box.type {
            case "trak", "edts", "mdia", "minf", "stbl":
                try collect(wanted, in: file, from: offset + box.headerSize, to: offset + box.size, into: &found)
            case "stsd":
                try collect(wanted, in: file, from: offset + box.headerSize + 8, to: offset + box.size, into: &found)
            default: break
            }
            offset += box.size
        }
    }

    private static func header(_ file: FileHandle, at offset: Int64, limit: Int64)
        throws -> (type: String, size: Int64, headerSize: Int64)?
    {
        try file.seek(toOffset: UInt64(offset))
        guard let bytes = try file.read(upToCount: 16), bytes.count >= 8 else { return nil }
        let b = [UInt8](bytes)
        var size = Int64(b[0]) << 24 | Int64(b[1]) << 16 | Int64(b[2]) << 8 | Int64(b[3])
        let type = String(decoding: b[4..<8], as: UTF8.self)
        var headerSize: Int64 = 8
        if size == 1 {
            guard b.count >= 16 else { return nil }
            size = b[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            headerSize = 16
        } else if size == 0 {
            size = limit - offset
        }
        guard size >= headerSize, offset + size <= limit else { return nil }
        return (type, size, headerSize)
    }
}
