import Foundation
import HTTPTypes
import KopruHTTPClient
import KopruConnectors
import KopruCore

/// How the hub learns, after a timeout or a lost answer, whether an order reached the ERP. A
/// guess here is either a double (every retry posts again) or a lost order (an answer misread
/// as "found"), so the profile says it explicitly and the connection's save probes it.
public enum OrderLookup: Sendable, Equatable {
    /// `GET paths.orderLookup` (`orders/{order_id}`): 200 is the order; `absent` is what the
    /// ERP answers for an order it does not have. Anything else decides nothing.
    case record(absent: AbsentAnswer)
    /// `GET paths.orderSearch` (`orders?order_id={order_id}`): 200 with a list at the JSON
    /// pointer `list`; a row whose order id is ours is the order, `[]` is "absent", and rows
    /// that are all some other order mean the ERP ignored the filter: nothing is decided.
    case search(list: String)
    /// The ERP cannot be asked. Safe only if it honours idempotency keys.
    case none
}

/// What "no such order" looks like on the ERP's record route: a status and, because a route
/// that does not exist usually answers the same status, a member of the body that only the
/// "no such order" answer carries (`404 /error/code=ORDER_NOT_FOUND`).
public struct AbsentAnswer: Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var pointer: String?
    public var value: String?

    public static let kopruDefault = AbsentAnswer(status: 404, pointer: "/error/code", value: "ORDER_NOT_FOUND")

    /// `404` or `404 /error/code=ORDER_NOT_FOUND`.
    init(parsing text: String) throws(ConnectorError) {
        let parts = text.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let status = parts.first.flatMap({ Int($0) }), (200...599).contains(status) else {
            throw .permanent("must be a status, optionally with POINTER=VALUE (404 /error/code=ORDER_NOT_FOUND)", field: "settings.lookup.absent")
        }
        self.status = status
        if parts.count == 2 {
            let pair = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].hasPrefix("/") else {
                throw .permanent("the body test must be POINTER=VALUE, e.g. /error/code=ORDER_NOT_FOUND", field: "settings.lookup.absent")
            }
            pointer = pair[0]
            value = pair[1]
        }
    }

    init(status: Int, pointer: String?, value: String?) {
        self.status = status
        self.pointer = pointer
        self.value = value
    }

    func matches(_ response: InboundResponse) -> Bool {
        guard response.status == status else { return false }
        guard let pointer else { return true }
        return (try? JSON.parse(response.body))?.at(pointer: pointer)?.string == value
    }

    public var description: String { pointer.map { "\(status) \($0)=\(value ?? "")" } ?? "\(status)" }
}

/// What a connection can rely on after an ambiguous outcome (shown in its health).
public enum DeliveryConfirmation: String, Sendable, Equatable {
    /// The ERP is asked whether it has the order.
    case lookup
    /// No lookup, but a repeated POST with the same key is answered with the first record (or 409).
    case idempotencyKey
    /// Neither: an ambiguous outcome cannot be resolved by the hub and is held for an operator.
    case none
}

extension RESTERPProfile {
    /// Reads `lookup`, `lookup.absent`, `lookup.list`, `idempotency` (see README.md).
    static func delivery(_ value: (String) -> String?, idempotencyHeader: String?) throws(ConnectorError)
        -> (lookup: OrderLookup, idempotencyHonoured: Bool)
    {
        let lookup: OrderLookup
        switch value("lookup") ?? "record" {
        case "record":
            if let text = value("lookup.absent") { lookup = .record(absent: try AbsentAnswer(parsing: text)) } else {
                lookup = .record(absent: .kopruDefault)
            }
        case "search": lookup = .search(list: value("lookup.list") ?? "")
        case "none": lookup = .none
        default: throw .permanent("must be record, search or none", field: "settings.lookup")
        }
        let honoured: Bool
        switch value("idempotency") ?? "ignored" {
        case "honoured", "honored": honoured = true
        case "ignored": honoured = false
        default: throw .permanent("must be honoured or ignored", field: "settings.idempotency")
        }
        if honoured && idempotencyHeader == nil {
            throw .permanent("idempotency: honoured needs an idempotencyHeader to carry the key", field: "settings.idempotency")
        }
        return (lookup, honoured)
    }
}
