// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Kiln",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kiln", targets: ["kiln"]),
        /// The pipeline as a library: `try await Pipeline(...).ingest(...)`, with the types its
        /// API speaks (KilnCore: errors, items, presets) and the stores (KilnStorage).
        .library(name: "KilnPipeline", targets: ["KilnPipeline", "KilnCore", "KilnStorage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // C libraries, entered in one place each.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CMagic", providers: [.apt(["libmagic-dev"])]),
        // FFmpeg's headers (libav*-dev) and a loader that opens its libraries on first use.
        .target(name: "CFFmpeg", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CKilnOS"),

        // Pure Swift: catalog, envelope, formats, presets.
        .target(name: "KilnCore"),
        .target(name: "KilnSniff", dependencies: ["KilnCore", "CMagic"]),
        .target(name: "KilnImaging", dependencies: ["KilnCore", "CVips"]),
        .target(name: "KilnVideo", dependencies: ["KilnCore", "KilnImaging", "CFFmpeg"]),
        .target(name: "KilnStorage", dependencies: [
            "KilnCore", "CKilnOS", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .target(name: "KilnPipeline", dependencies: [
            "KilnCore", "KilnSniff", "KilnImaging", "KilnVideo", "KilnStorage",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "kiln", dependencies: [
            "KilnPipeline", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "KilnTestSupport", dependencies: ["KilnCore"], path: "Tests/KilnTestSupport"),
        // Fuzzing: the targets as a library (regression tests replay their corpora), and one
        // executable that libFuzzer drives (`make fuzz`) or that replays files given to it.
        .target(name: "KilnFuzz", dependencies: ["KilnPipeline", "KilnVideo", "KilnStorage"]),
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .executableTarget(name: "kiln-fuzz", dependencies: ["KilnFuzz", "CFuzzDriver"], path: "Fuzz/kiln-fuzz"),
        .testTarget(name: "KilnFuzzTests", dependencies: ["KilnFuzz", "KilnTestSupport"]),
        .testTarget(name: "KilnCoreTests", dependencies: ["KilnCore", "KilnTestSupport"]),
        .testTarget(name: "KilnSniffTests", dependencies: ["KilnSniff", "KilnTestSupport"]),
        .testTarget(name: "KilnImagingTests", dependencies: ["KilnImaging", "KilnTestSupport"]),
        .testTarget(name: "KilnVideoTests", dependencies: ["KilnVideo", "KilnImaging", "KilnTestSupport"]),
        .testTarget(name: "KilnStorageTests", dependencies: [
            "KilnStorage", "KilnTestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .testTarget(name: "KilnPipelineTests", dependencies: ["KilnPipeline", "KilnImaging", "KilnStorage", "KilnTestSupport"]),
        .testTarget(name: "KilnCLITests", dependencies: ["KilnCore", "KilnTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
