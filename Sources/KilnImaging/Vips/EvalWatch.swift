import CVips
import KilnCore

/// Connects a job's `JobControl` to libvips' evaluation: on every progress tick libvips asks
/// whether the job must stop, and kills the image if so. Owns the C record it registers, which
/// must outlive the evaluation (the caller keeps this object alive across the save).
final class EvalWatch {
    private let record: UnsafeMutablePointer<KilnEvalWatch>
    private let control: JobControl

    init(_ control: JobControl) {
        self.control = control
        record = .allocate(capacity: 1)
        record.initialize(to: KilnEvalWatch(
            should_stop: { user in
                guard let user else { return 0 }
                return Unmanaged<JobControl>.fromOpaque(user).takeUnretainedValue().isStopped ? 1 : 0
            },
            user: Unmanaged.passUnretained(control).toOpaque()))
    }

    deinit {
        record.deinitialize(count: 1)
        record.deallocate()
    }

    func watch(_ image: ImageHandle) { kiln_watch_eval(image.pointer, record) }
}
