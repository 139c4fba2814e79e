import Foundation
import HTTPTypes
import KopruHTTPClient
import KopruConnectors
import KopruCore

/// "Did it land?": the one question the engine asks after an ambiguous outcome, answered only
/// from what the profile says the ERP's answers mean. An answer the profile does not explain
/// decides nothing: it is never read as "absent" (a post again: a double) nor as "found" (an
/// order never sent).
extension RESTERPConnector {
    /// What this connection can rely on after a timeout or a lost answer.
    public var deliveryConfirmation: DeliveryConfirmation {
        switch profile.orderLookup {
        case .record, .search: .lookup
        case .none: profile.idempotencyHonoured ? .idempotencyKey : .none
        }
    }

    /// False when an ambiguous outcome can only be resolved by a person.
    public var canConfirmDelivery: Bool { deliveryConfirmation != .none }

    /// The line the connection's health must show while `canConfirmDelivery` is false.
    public var deliveryWarning: String? {
        guard !canConfirmDelivery else { return nil }
        return "This ERP can neither be asked whether an order arrived (settings.lookup: none) nor be given an idempotency key "
            + "(settings.idempotency: ignored). After a timeout or a lost answer Köprü cannot know whether the order landed, so "
            + "such orders are held for an operator instead of being sent again. Configure a lookup (lookup: record or search) "
            + "or, if the ERP honours Idempotency-Key, set idempotency: honoured."
    }

    /// The error for an order whose fate the hub cannot learn: an operator checks the ERP and
    /// replays or discards it. Permanent, so it waits in the dead letters instead of being guessed.
    public static func heldForOperator(_ number: String, because reason: String) -> ConnectorError {
        .permanent(
            "order \(number) may or may not have reached the ERP and is held for an operator: \(reason). "
                + "Check the ERP for it; if it is not there, replay the job with `kopru jobs replay ID --not-at-target` "
                + "(POST /api/dead-letters/ID/replay?notAtTarget=true); if it is, leave the dead letter",
            field: "settings.lookup")
    }

    enum LookupAnswer: Equatable {
        case found(reference: String?)
        case absent
        case unexplained(String)
    }

    func lookupURL(_ number: String) -> URL? {
        switch profile.orderLookup {
        case .record: profile.url("orderLookup", replacing: ["order_id": number])
        case .search: profile.url("orderSearch", replacing: ["order_id": number])
        case .none: nil
        }
    }

    /// Reads a lookup answer for order `number` by the profile's rules.
    func read(lookup response: InboundResponse, for number: String) -> LookupAnswer {
        let json = try? JSON.parse(response.body)
        let orderField = profile.fields["order.order_id"] ?? "order_id"
        switch profile.orderLookup {
        case .none: return .unexplained("no lookup is configured")
        case .record(let absent):
            if absent.matches(response) { return .absent }
            guard response.status == 200 else {
                return .unexplained("it answered \(response.status), not \(absent) (how settings.lookup.absent says a missing order looks)")
            }
            guard let json, case .object = json else { return .unexplained("it answered 200 with something that is not a JSON record") }
            if let other = json[orderField]?.string, other != number {
                return .unexplained("it answered 200 with order \(other)")
            }
            return .found(reference: json.at(pointer: profile.referencePointer)?.string)
        case .search(let list):
            guard response.status == 200 else { return .unexplained("the search answered \(response.status)") }
            guard let rows = json?.at(pointer: list)?.array else {
                return .unexplained("the search answer has no JSON list at \"\(list)\" (settings.lookup.list)")
            }
            if let row = rows.first(where: { $0[orderField]?.string == number }) {
                return .found(reference: row.at(pointer: profile.referencePointer)?.string)
            }
            return rows.isEmpty ? .absent : .unexplained("the search answered \(rows.count) other orders: it seems to ignore the filter")
        }
    }

    public func findOrder(_ order: Order, idempotencyKey: String) async throws -> String? {
        let number = order.source.externalNumber ?? order.source.externalID
        guard let url = lookupURL(number) else {
            // Without a lookup, sending again is safe only when the ERP recognises the key.
            if profile.idempotencyHonoured { return nil }
            throw Self.heldForOperator(number, because: "the ERP has no lookup and ignores idempotency keys")
        }
        let response = try await send(.get, url)
        switch read(lookup: response, for: number) {
        case .found(let reference): return reference ?? number
        case .absent: return nil
        case .unexplained(let reason):
            if [401, 403, 408, 429].contains(response.status) || response.status >= 500 { throw Self.failure(response) }
            throw Self.heldForOperator(number, because: "its lookup cannot say: \(reason)")
        }
    }

    /// Asks the lookup about an order that cannot exist, and a route that cannot exist, and
    /// refuses a profile that cannot tell "absent" from either "found" or "no such route". Call
    /// it when the connection is saved; a `.none` result must be shown loudly (`deliveryWarning`).
    /// Throws a permanent error naming the setting to change, or the ERP's own failure (auth,
    /// 5xx, no answer) when it could not be asked at all.
    public func probeLookup() async throws(ConnectorError) -> DeliveryConfirmation {
        let probe = "kopru-probe-\(UUID().uuidString.lowercased())"
        guard let url = lookupURL(probe) else { return deliveryConfirmation }
        let searches = if case .search = profile.orderLookup { true } else { false }
        let setting = searches ? "settings.paths.orderSearch" : "settings.paths.orderLookup"
        let answer = try await send(.get, url)
        switch read(lookup: answer, for: probe) {
        case .absent: break
        case .found:
            throw .permanent(
                "the lookup \(url.path) answered as if it had order \(probe), which cannot exist: orders would be reported found and never sent",
                field: setting)
        case .unexplained(let reason):
            if [401, 403, 408, 429].contains(answer.status) || answer.status >= 500 { throw Self.failure(answer) }
            let fix = searches ? "settings.lookup.list" : "settings.lookup.absent"
            throw .permanent("asked for an order that cannot exist, \(url.path): \(reason)", field: fix)
        }
        let missingRoute = profile.baseURL.appendingPathComponent("kopru-no-such-route-\(probe.suffix(12))").appendingPathComponent(probe)
        let nowhere = try await send(.get, missingRoute)
        if read(lookup: nowhere, for: probe) == .absent {
            throw .permanent(
                "the ERP answers a route that does not exist (\(missingRoute.path)) exactly as the lookup answers a missing order, "
                    + "so a missing lookup route would read as 'not there' and every retry would post again: set lookup.absent to a "
                    + "status and a body member only the lookup's answer carries (e.g. 404 /error/code=ORDER_NOT_FOUND), or use lookup: search",
                field: "settings.lookup.absent")
        }
        return .lookup
    }
}

extension RESTERPConnector: ConnectionChecks {
    public var resendIsSafe: Bool { deliveryConfirmation == .idempotencyKey }
    public func checkBeforeSaving() async throws { _ = try await probeLookup() }
    public var warnings: [String] { deliveryWarning.map { [$0] } ?? [] }
}
