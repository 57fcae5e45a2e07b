import Foundation
import KilnCore

/// receive: the input exists, is a regular file and is not empty. Its size comes from `stat`
/// (a preflight's head is held to the whole file's size it was told); the file is read in
/// place later, never copied first.
extension Step {
    static let receive = Step(name: "receive") { context, _ in
        var info = stat()
        guard stat(context.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw KilnError.notFound(context.input)
        }
        guard info.st_size > 0 else { throw KilnError.emptyFile(context.input) }
        context.sizeBytes = max(context.sizeBytes, Int64(info.st_size))
    }
}
