import Foundation
import KilnCore

/// Which media the server published, for which tenant (the store holds the media themselves).
/// A row is one hold on an item: its upload (`holder` empty) or a carousel that lists it
/// (`holder` the carousel's id). An item's stored bytes go when nothing holds it any more.
public protocol MediaRecordStore: Sendable {
    /// Records `item`'s upload for `tenant` (a second of the same is ignored).
    func add(_ item: MediaItem, tenant: String?, keyID: String?) async throws(KilnError)
    /// Records `carousel`'s upload for `tenant`, and its holds on its items.
    func add(_ carousel: CarouselRecord, items: [MediaItem], tenant: String?, keyID: String?) async throws(KilnError)
    /// The tenant holding `id`, if one does (what a manifest made before tenants cannot say).
    func tenant(of id: String) async throws(KilnError) -> String?
    /// Drops `tenant`'s own hold on `id` (and, for a carousel, the holds it has on its items);
    /// returns the items of the carousel that nothing holds any more, whose stored bytes are to go.
    /// An item a carousel of the tenant still lists is not released: API_010 names the carousels.
    func release(id: String, tenant: String?) async throws(KilnError) -> [String]
}

extension MediaRecordStore {
    /// What each succeeded target made.
    public func add(_ outcomes: [TargetOutcome], tenant: String?, keyID: String?) async throws(KilnError) {
        for outcome in outcomes where outcome.error == nil {
            if let carousel = outcome.carousel {
                try await add(carousel, items: outcome.items, tenant: tenant, keyID: keyID)
            } else if let item = outcome.items.first {
                try await add(item, tenant: tenant, keyID: keyID)
            }
        }
    }
}
