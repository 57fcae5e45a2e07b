import CFFmpeg
import KilnCore

/// Cuts a decoded frame to a window that may move from frame to frame: the window is set in
/// FFmpeg's cropping fields and `av_frame_apply_cropping` offsets the planes' pointers (no copy),
/// as FFmpeg's own crop filter does. The window is placed in the picture's displayed pixels; the
/// frame is as coded (before rotation, pixels maybe not square), so it is turned and scaled back.
struct FrameCrop {
    private let rotation: Int
    private let displayWidth: Int
    private let displayHeight: Int
    private let codedWidth: Int
    private let codedHeight: Int
    private let timeBase: AVRational
    private let start: Int64
    /// The window in coded pixels: what the filter graph after it is fed.
    let width: Int
    let height: Int

    /// A window `window` (displayed pixels) of frames from `decoder`.
    init(window: (width: Int, height: Int), rotation: Int, displayWidth: Int, displayHeight: Int, decoder: Decoder,
         stream: UnsafeMutablePointer<AVStream>) {
        self.rotation = rotation
        self.displayWidth = max(1, displayWidth)
        self.displayHeight = max(1, displayHeight)
        codedWidth = Int(decoder.context.pointee.width)
        codedHeight = Int(decoder.context.pointee.height)
        timeBase = stream.pointee.time_base
        start = stream.pointee.start_time == kiln_nopts_value() ? 0 : stream.pointee.start_time
        let (across, down) = Self.scale(rotation: rotation, codedWidth: codedWidth, codedHeight: codedHeight,
                                        displayWidth: self.displayWidth, displayHeight: self.displayHeight)
        let w = min(Int(Double(window.width) * across) & ~1, rotation % 180 == 0 ? codedWidth : codedHeight)
        let h = min(Int(Double(window.height) * down) & ~1, rotation % 180 == 0 ? codedHeight : codedWidth)
        (width, height) = rotation % 180 == 0 ? (max(2, w), max(2, h)) : (max(2, h), max(2, w))
    }

    /// Coded pixels per displayed pixel, across and down the upright picture.
    private static func scale(rotation: Int, codedWidth: Int, codedHeight: Int, displayWidth: Int, displayHeight: Int)
        -> (Double, Double)
    {
        let (uprightWidth, uprightHeight) = rotation % 180 == 0 ? (codedWidth, codedHeight) : (codedHeight, codedWidth)
        return (Double(uprightWidth) / Double(displayWidth), Double(uprightHeight) / Double(displayHeight))
    }

    /// Seconds into the stream of a decoded frame.
    func seconds(of frame: Frame) -> Double {
        let pts = frame.pointer.pointee.best_effort_timestamp
        return pts == kiln_nopts_value() ? 0 : Double(pts - start) * av_q2d(timeBase)
    }

    /// Crops `frame` in place to the window whose top left is `origin` (displayed pixels).
    func apply(to frame: Frame, origin: (x: Int, y: Int)) throws(AVFailure) {
        let f = frame.pointer.pointee
        let (fw, fh) = (Int(f.width), Int(f.height))
        guard fw == codedWidth, fh == codedHeight else {
            throw AVFailure("crop", message: "the picture changed size mid-stream (\(codedWidth)x\(codedHeight) to \(fw)x\(fh))")
        }
        let (across, down) = Self.scale(rotation: rotation, codedWidth: fw, codedHeight: fh, displayWidth: displayWidth,
                                        displayHeight: displayHeight)
        // The window in the upright picture's coded pixels, then turned back to the frame as stored.
        let (uw, uh) = rotation % 180 == 0 ? (width, height) : (height, width)
        let (uprightWidth, uprightHeight) = rotation % 180 == 0 ? (fw, fh) : (fh, fw)
        let ux = min(Int(Double(origin.x) * across) & ~1, uprightWidth - uw)
        let uy = min(Int(Double(origin.y) * down) & ~1, uprightHeight - uh)
        let (x, y): (Int, Int) = switch rotation {
        case 90: (uy, fh - ux - uw)
        case 180: (fw - ux - uw, fh - uy - uh)
        case 270: (fw - uy - uh, ux)
        default: (ux, uy)
        }
        let left = max(0, x) & ~1, top = max(0, y) & ~1
        frame.pointer.pointee.crop_left = left
        frame.pointer.pointee.crop_top = top
        frame.pointer.pointee.crop_right = max(0, fw - left - width)
        frame.pointer.pointee.crop_bottom = max(0, fh - top - height)
        // Unaligned: the window starts where it is placed, as the crop filter's output does.
        try check(ff.av_frame_apply_cropping(frame.pointer, Int32(AV_FRAME_CROP_UNALIGNED)), "av_frame_apply_cropping")
    }
}

extension VideoPlan {
    /// The per-frame crop of a plan that follows the subject, for frames from `decoder` turned `rotation`.
    func frameCrop(decoder: Decoder, stream: UnsafeMutablePointer<AVStream>, rotation: Int) -> FrameCrop? {
        guard follows else { return nil }
        let window = Self.cropWindow(geometry, displayWidth: displayWidth, displayHeight: displayHeight)
        return FrameCrop(window: (window.width, window.height), rotation: rotation, displayWidth: displayWidth,
                         displayHeight: displayHeight, decoder: decoder, stream: stream)
    }
}
