import KilnCore
import KilnImaging
import KilnVideo

/// What this build can read and write, asked of libvips and FFmpeg at run time: the format
/// table (`MediaFormat.all`) with each entry's decoder checked, and the output formats with
/// their encoders. A server answers `GET /v1/formats` with it so clients check before uploading.
public struct FormatSupport: Codable, Sendable, Equatable {
    public struct Input: Codable, Sendable, Equatable {
        public let name: String
        public let mime: String
        public let kind: MediaKind
        public let decoder: String
        public let available: Bool
    }

    public struct Output: Codable, Sendable, Equatable {
        public let format: String
        public let mime: String
        public let encoders: [String]
        public let available: Bool
    }

    public let decode: [Input]
    public let encode: [Output]

    /// Asks the libraries (starts libvips and loads FFmpeg).
    public static func current() -> FormatSupport {
        let decode = MediaFormat.all.map { format in
            let available = format.kind == .image ? ImageEngine.hasOperation(format.decoder)
                                                  : VideoEngine.hasDemuxer(format.decoder)
            return Input(name: format.name, mime: format.mime, kind: format.kind, decoder: format.decoder,
                         available: available)
        }
        let encode = OutputFormat.allCases.map { format in
            let encoders = encoders(for: format)
            let available = format == .mp4 ? encoders.allSatisfy(VideoEngine.hasEncoder)
                                           : encoders.allSatisfy(ImageEngine.hasOperation)
            return Output(format: format.rawValue, mime: format.mime, encoders: encoders, available: available)
        }
        return FormatSupport(decode: decode, encode: encode)
    }

    /// The libvips savers or FFmpeg encoders a rendition in `format` needs.
    static func encoders(for format: OutputFormat) -> [String] {
        switch format {
        case .jpeg: ["jpegsave"]
        case .webp: ["webpsave"]
        case .avif: ["heifsave"]
        case .png: ["pngsave"]
        case .gif: ["gifsave"]
        case .mp4: ["libx264", "aac"]
        }
    }
}
