/// The page at `/`: placeholder until the upload page lands.
enum UploadPage {
    static let html = "<!doctype html><title>Kiln</title><p>Kiln API</p>"
}
