// Nothing of Kiln's own: this target names every package the `kiln` binary links, so that
// `make run` can build them (about nine tenths of a fresh machine's build, two copies of
// BoringSSL among them) while the C libraries Kiln itself needs (libvips, FFmpeg, libmagic) are
// still being installed. It is never imported.
