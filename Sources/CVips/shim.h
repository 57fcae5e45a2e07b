// What Swift cannot import from libvips/GLib (type macros, casts), as inline functions.
#include <vips/vips.h>

static inline GType kiln_gtype_boolean(void) { return G_TYPE_BOOLEAN; }
static inline GType kiln_gtype_int(void) { return G_TYPE_INT; }
static inline GType kiln_gtype_uint64(void) { return G_TYPE_UINT64; }
static inline GType kiln_gtype_double(void) { return G_TYPE_DOUBLE; }
static inline GType kiln_gtype_string(void) { return G_TYPE_STRING; }
static inline GType kiln_gtype_enum(void) { return G_TYPE_ENUM; }
static inline GType kiln_gtype_image(void) { return VIPS_TYPE_IMAGE; }
static inline GType kiln_gtype_array_double(void) { return VIPS_TYPE_ARRAY_DOUBLE; }
static inline GType kiln_gtype_fundamental(GType t) { return G_TYPE_FUNDAMENTAL(t); }

/// The value type of an operation's argument `name`; 0 when the operation has no such argument.
/// Looked up on the GObject class, which (unlike vips_object_get_argument) writes nothing to
/// libvips' process-wide error buffer: a miss here must not pollute another job's error text.
static inline GType kiln_operation_argument_type(VipsOperation *op, const char *name) {
    GParamSpec *pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(op), name);
    return pspec ? G_PARAM_SPEC_VALUE_TYPE(pspec) : 0;
}

static inline void kiln_operation_set(VipsOperation *op, const char *name, const GValue *value) {
    g_object_set_property(G_OBJECT(op), name, value);
}

static inline void kiln_operation_get(VipsOperation *op, const char *name, GValue *value) {
    g_object_get_property(G_OBJECT(op), name, value);
}

static inline void kiln_object_unref(void *object) { g_object_unref(object); }
static inline void kiln_object_ref(void *object) { g_object_ref(object); }
static inline void kiln_operation_unref_outputs(VipsOperation *op) { vips_object_unref_outputs(VIPS_OBJECT(op)); }
static inline VipsImage *kiln_value_get_image(const GValue *value) { return VIPS_IMAGE(g_value_get_object(value)); }
static inline void kiln_value_set_image(GValue *value, VipsImage *image) { g_value_set_object(value, image); }

/// Asked on every evaluation tick whether the job must stop (cancelled or out of time); the
/// image is then killed and the save fails. `should_stop` reads the job's state atomically.
typedef struct {
    int (*_Nonnull should_stop)(void *_Nullable user);
    void *_Nullable user;
} KilnEvalWatch;

static void kiln_eval_check(VipsImage *image, VipsProgress *progress, void *user) {
    (void)progress;
    KilnEvalWatch *watch = (KilnEvalWatch *)user;
    if (watch->should_stop(watch->user)) vips_image_set_kill(image, TRUE);
}

/// Watches evaluation of `image` (the image handed to a save); `watch` must outlive it.
static inline void kiln_watch_eval(VipsImage *image, KilnEvalWatch *watch) {
    vips_image_set_progress(image, TRUE);
    g_signal_connect_data(image, "eval", G_CALLBACK(kiln_eval_check), watch, NULL, 0);
}
