import CFuzzDriver
import Foundation
import KilnFuzz

// KILN_FUZZ_TARGET picks the target (see FuzzTargets.names).
private let target = ProcessInfo.processInfo.environment["KILN_FUZZ_TARGET"] ?? "checks"

#if KILN_FUZZ
/// libFuzzer calls this for every input (built by `make fuzz` with -sanitize=fuzzer,address).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.run(target, UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// SwiftPM names an executable's entry point `<module>_main`; hand it to libFuzzer's driver.
@_cdecl("kiln_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without libFuzzer: replays the files given as arguments (a crash reproducer).
@main
struct Replay {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes { FuzzTargets.run(target, $0) }
            print("ok \(path)")
        }
    }
}
#endif
