import CVips

/// A value for one argument of a libvips operation. The operation's own argument type decides
/// how it is converted (an enum takes its nick, e.g. `.string("attention")`).
enum VipsArgument {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case image(ImageHandle)
    case doubles([Double])
}

/// Calls any libvips operation by name through the generic operation API, which reaches
/// every operation without a C wrapper each (libvips' option calls are C variadics).
enum VipsOperation {
    /// Builds and runs `name` with `arguments`; returns its `out` image when it has one.
    @discardableResult
    static func call(_ name: String, _ arguments: KeyValuePairs<String, VipsArgument>) throws(VipsFailure)
        -> ImageHandle?
    {
        Vips.start()
        guard let operation = vips_operation_new(name) else {
            throw VipsFailure(operation: name, message: Vips.takeError())
        }
        for (key, argument) in arguments {
            do {
                try set(key, argument, on: operation, named: name)
            } catch {
                kiln_object_unref(operation)
                throw error
            }
        }
        guard let built = vips_cache_operation_build(operation) else {
            let message = Vips.takeError()
            kiln_operation_unref_outputs(operation)
            kiln_object_unref(operation)
            throw VipsFailure(operation: name, message: message)
        }
        kiln_object_unref(operation)
        defer {
            kiln_operation_unref_outputs(built)
            kiln_object_unref(built)
        }
        guard kiln_operation_argument_type(built, "out") == kiln_gtype_image() else { return nil }
        var value = GValue()
        g_value_init(&value, kiln_gtype_image())
        defer { g_value_unset(&value) }
        kiln_operation_get(built, "out", &value)
        guard let image = kiln_value_get_image(&value) else {
            throw VipsFailure(operation: name, message: "produced no image")
        }
        kiln_object_ref(image)
        return ImageHandle(owning: image)
    }

    private static func set(
        _ key: String, _ argument: VipsArgument, on operation: UnsafeMutablePointer<CVips.VipsOperation>, named name: String
    ) throws(VipsFailure) {
        let property = key.replacingOccurrences(of: "_", with: "-")
        let type = kiln_operation_argument_type(operation, property)
        guard type != 0 else { throw VipsFailure(operation: name, message: "has no argument \(key)") }
        var value = GValue()
        g_value_init(&value, type)
        defer { g_value_unset(&value) }
        let fundamental = kiln_gtype_fundamental(type)
        switch argument {
        case .bool(let flag) where type == kiln_gtype_boolean():
            g_value_set_boolean(&value, flag ? 1 : 0)
        case .int(let number) where type == kiln_gtype_int():
            g_value_set_int(&value, Int32(clamping: number))
        case .int(let number) where type == kiln_gtype_uint64():
            g_value_set_uint64(&value, guint64(max(0, number)))
        case .int(let number) where type == kiln_gtype_double():
            g_value_set_double(&value, Double(number))
        case .double(let number) where type == kiln_gtype_double():
            g_value_set_double(&value, number)
        case .string(let text) where type == kiln_gtype_string():
            g_value_set_string(&value, text)
        case .string(let nick) where fundamental == kiln_gtype_enum():
            let number = vips_enum_from_nick(name, type, nick)
            guard number >= 0 else { throw VipsFailure(operation: name, message: Vips.takeError()) }
            g_value_set_enum(&value, number)
        case .image(let image) where type == kiln_gtype_image():
            kiln_value_set_image(&value, image.pointer)
        case .doubles(let numbers) where type == kiln_gtype_array_double():
            numbers.withUnsafeBufferPointer { vips_value_set_array_double(&value, $0.baseAddress, Int32($0.count)) }
        default:
            throw VipsFailure(operation: name, message: "argument \(key) does not take \(argument)")
        }
        kiln_operation_set(operation, property, &value)
    }
}
