/// The size and shape of one rendition, planned from the displayed source size before any
/// pixel is touched.
public struct RenditionGeometry: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable, Codable {
        /// Shrink to fit inside the box, keeping the shape.
        case within
        /// Fill the box exactly, cropping around the most interesting region.
        case crop
        /// Fit inside the box and letterbox to its exact size.
        case pad
        /// Fit inside the box; the bars a blurred, darkened, scaled-up copy of the picture.
        case blur
    }

    public let mode: Mode
    public let width: Int
    public let height: Int
    /// Where a crop keeps the subject.
    public let focus: Focus

    public init(mode: Mode, width: Int, height: Int, focus: Focus = .auto) {
        self.mode = mode
        self.width = width
        self.height = height
        self.focus = focus
    }

    /// The part of a `sourceWidth` x `sourceHeight` picture (as displayed) a crop to this shape
    /// keeps: the largest window of the shape, placed around the focus point (centred for auto
    /// and center: where auto puts it is found when the file is made).
    public func cropWindow(sourceWidth: Int, sourceHeight: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let ratio = Double(width) / Double(max(1, height))
        let source = Double(sourceWidth) / Double(max(1, sourceHeight))
        let (w, h) = source > ratio ? (min(sourceWidth, Int((Double(sourceHeight) * ratio).rounded())), sourceHeight)
            : (sourceWidth, min(sourceHeight, Int((Double(sourceWidth) / ratio).rounded())))
        let (fx, fy) = if case .point(let x, let y) = focus { (x, y) } else { (0.5, 0.5) }
        return (Focus.origin(keeping: fx, window: w, side: sourceWidth), Focus.origin(keeping: fy, window: h, side: sourceHeight),
                w, h)
    }

    /// Whether the picture is fitted inside the box and the rest filled (pad, blur).
    public var fills: Bool { mode == .pad || mode == .blur }

    /// The same plan with even sides (4:2:0 video needs them), never below 2.
    public var evenSized: RenditionGeometry {
        RenditionGeometry(mode: mode, width: max(2, width & ~1), height: max(2, height & ~1), focus: focus)
    }

    /// Plans a rendition of a `sourceWidth` x `sourceHeight` (as displayed) image. Never enlarges,
    /// but to reach the spec's `minWidth` (within its box).
    /// `aspect` and `fit` decide crop or pad when the source's shape is out of range; `reject`
    /// is handled by validation before this is reached, and here falls back to `within`.
    public static func plan(sourceWidth: Int, sourceHeight: Int, spec: RenditionSpec, aspect: AspectRange?,
                            fit: Fit, focus: Focus = .auto) -> RenditionGeometry {
        let sw = Double(max(1, sourceWidth))
        let sh = Double(max(1, sourceHeight))
        let ratio = sw / sh
        var mode = Mode.within
        var extentW = sw
        var extentH = sh
        if let aspect, !aspect.contains(ratio), fit != .reject {
            let target = aspect.clamp(ratio)
            mode = switch fit {
            case .crop: .crop
            case .blur: .blur
            case .pad, .reject: .pad
            }
            let wider = ratio > target
            switch (fit, wider) {
            case (.crop, true): extentW = sh * target
            case (.crop, false): extentH = sw / target
            case (_, true): extentH = sw / target
            case (_, false): extentW = sh * target
            }
        }
        var scale = min(1, Double(spec.maxWidth) / extentW, Double(spec.maxHeight) / extentH)
        if let maxPixels = spec.maxPixels, extentW * extentH * scale * scale > Double(maxPixels) {
            scale = (Double(maxPixels) / (extentW * extentH)).squareRoot()
        }
        if let minWidth = spec.minWidth, extentW * scale < Double(minWidth) {
            scale = min(Double(minWidth) / extentW, Double(spec.maxWidth) / extentW, Double(spec.maxHeight) / extentH)
        }
        let width = max(1, Int((extentW * scale).rounded(scale > 1 ? .up : .down)))
        let height = max(1, Int((extentH * scale).rounded(.down)))
        return RenditionGeometry(mode: mode, width: width, height: height, focus: focus)
    }
}
