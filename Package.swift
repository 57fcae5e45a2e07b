// swift-tools-version: 6.1
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
        // The API server (`kiln serve`); swift-configuration support left out (not used, slow to build).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter's dependencies would double the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // C libraries, entered in one place each.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CMagic", providers: [.apt(["libmagic-dev"])]),
        // FFmpeg's headers (libav*-dev) and a loader that opens its libraries on first use.
        .target(name: "CFFmpeg", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CKilnOS"),
        // dlib's frontal face detector (Debian's libdlib-dev) behind one C function; C++ inside,
        // optimised even in debug builds (its templates are ~50x slower unoptimised).
        .target(name: "CKilnFaces", cxxSettings: [.unsafeFlags(["-O2"])],
                linkerSettings: [.linkedLibrary("dlib"), .linkedLibrary("lapack"), .linkedLibrary("blas")]),

        // Pure Swift: catalog, envelope, formats, presets. The platforms' rules are data, one JSON
        // file per platform, embedded in the binary.
        .target(name: "KilnCore", resources: [.embedInCode("Presets/Platforms")]),
        .target(name: "KilnSniff", dependencies: ["KilnCore", "CMagic"]),
        .target(name: "KilnImaging", dependencies: ["KilnCore", "CVips", "CKilnFaces"]),
        .target(name: "KilnVideo", dependencies: ["KilnCore", "KilnImaging", "CFFmpeg"]),
        .target(name: "KilnStorage", dependencies: [
            "KilnCore", "CKilnOS", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .target(name: "KilnPipeline", dependencies: [
            "KilnCore", "KilnSniff", "KilnImaging", "KilnVideo", "KilnStorage",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),
        // Records, API keys and the durable job queue in SQLite (GRDB, WAL); the shared job
        // queue in PostgreSQL.
        .target(name: "KilnDatabase", dependencies: [
            "KilnCore", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The ingest service (received files to a job or to media now) and the jobs it queues:
        // payload, runner, `kiln worker`, and the metrics the front ends share. No HTTP framework.
        .target(name: "KilnQueue", dependencies: [
            "KilnPipeline", "KilnDatabase", "KilnStorage",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The HTTP API front end: routes, multipart streaming, auth, limits, tus.
        .target(name: "KilnServer", dependencies: [
            "KilnPipeline", "KilnDatabase", "KilnQueue",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], resources: [.embedInCode("OpenAPI/openapi.yaml")]),
        // The batch and watched-folder front ends: walking, journals, the folder watcher.
        .target(name: "KilnFolders", dependencies: [
            "KilnPipeline", "KilnQueue", "KilnDatabase", "CKilnOS", .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "kiln", dependencies: [
            "KilnPipeline", "KilnServer", "KilnQueue", "KilnDatabase", "KilnFolders",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "OTel", package: "swift-otel"),
        ]),

        // Every package `kiln` links and nothing of Kiln's: `make run` builds it while apt-get
        // installs the C libraries (a fresh machine's build is mostly these packages).
        .target(name: "KilnDependencies", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "OTel", package: "swift-otel"),
        ]),

        // The shared queue's own cost, printed by `make bench` (benchmarks/run.sh).
        .executableTarget(name: "kiln-queue-bench", dependencies: [
            "KilnDatabase", "KilnPipeline", .product(name: "Logging", package: "swift-log"),
        ], path: "benchmarks/QueueBench"),
        // The output check's share of the work it checks, printed by `make bench`.
        .executableTarget(name: "kiln-check-bench", dependencies: ["KilnPipeline", "KilnStorage"],
                          path: "benchmarks/CheckBench"),

        .target(name: "KilnTestSupport", dependencies: ["KilnCore"], path: "Tests/KilnTestSupport"),
        // Fuzzing: the targets as a library (regression tests replay their corpora), and one
        // executable that libFuzzer drives (`make fuzz`) or that replays files given to it.
        .target(name: "KilnFuzz", dependencies: ["KilnPipeline", "KilnVideo", "KilnStorage", "KilnServer"]),
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
        .testTarget(name: "KilnCLITests", dependencies: ["KilnCore", "KilnDatabase", "KilnTestSupport"]),
        .testTarget(name: "KilnDatabaseTests", dependencies: [
            "KilnDatabase", "KilnTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "KilnFoldersTests", dependencies: ["KilnFolders", "KilnTestSupport"]),
        .testTarget(name: "KilnQueueTests", dependencies: [
            "KilnQueue", "KilnPipeline", "KilnDatabase", "KilnStorage", "KilnTestSupport",
        ]),
        .testTarget(name: "KilnServerTests", dependencies: [
            "KilnServer", "KilnPipeline", "KilnDatabase", "KilnStorage", "KilnTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
