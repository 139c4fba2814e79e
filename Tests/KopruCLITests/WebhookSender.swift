import Crypto
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A webhook provider as the hub meets one: signed deliveries (`X-Kopru-Signature`, hex HMAC of
/// the body) to `/webhooks/<connection>`, each with its delivery id, re-sent until answered 2xx.
/// Remembers what it was answered, so a test can say which deliveries were acknowledged and
/// what the hub said about the others.
final class WebhookSender: Sendable {
    let base: URL
    let secret: String
    let session: URLSession
    private let acked = Mutex<Set<Int>>([])
    private let next = Mutex(0)
    private let answers = Mutex<(statuses: [Int: Int], lastAcknowledged: Date?, retryAfter: Set<String>)>(([:], nil, []))

    /// `timeout`: how long one delivery waits for its answer.
    init(port: Int, connection: String = "shop", secret: String, timeout: TimeInterval = 3) {
        base = URL(string: "http://127.0.0.1:\(port)/webhooks/\(connection)")!
        self.secret = secret
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: configuration)
    }

    var acknowledged: Set<Int> { acked.withLock { $0 } }
    /// How many answers of each status (a request without an answer is not counted).
    var statuses: [Int: Int] { answers.withLock { $0.statuses } }
    var lastAcknowledged: Date? { answers.withLock { $0.lastAcknowledged } }
    /// The `Retry-After` values seen on non-2xx answers.
    var retryAfterValues: Set<String> { answers.withLock { $0.retryAfter } }

    /// The next delivery index below `count` no sender has taken yet.
    func take(_ count: Int) -> Int? {
        next.withLock { index in
            defer { index += 1 }
            return index < count ? index : nil
        }
    }

    /// One delivery attempt; true when the hub answered 2xx.
    func deliver(_ index: Int) async -> Bool {
        let body = Data(#"{"id":\#(index),"topic":"orders/create"}"#.utf8)
        var request = URLRequest(url: base)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("d-\(index)", forHTTPHeaderField: "X-Delivery-Id")
        let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        request.setValue(Data(signature).map { String(format: "%02x", $0) }.joined(), forHTTPHeaderField: "X-Kopru-Signature")
        guard let (_, response) = try? await session.data(for: request), let http = response as? HTTPURLResponse else { return false }
        let ok = (200..<300).contains(http.statusCode)
        answers.withLock { answers in
            answers.statuses[http.statusCode, default: 0] += 1
            if ok { answers.lastAcknowledged = Date() }
            if !ok, let retryAfter = http.value(forHTTPHeaderField: "Retry-After") { answers.retryAfter.insert(retryAfter) }
        }
        if ok { acked.withLock { _ = $0.insert(index) } }
        return ok
    }

    /// Re-delivers until answered 2xx, as a provider retries.
    func deliverUntilAcknowledged(_ index: Int, deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline {
            if await deliver(index) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// `parallel` senders delivering every index below `count` until acknowledged.
    func deliverAll(_ count: Int, parallel: Int = 8, deadline: ContinuousClock.Instant) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<parallel {
                    group.addTask { while let index = self.take(count) { await self.deliverUntilAcknowledged(index, deadline: deadline) } }
                }
            }
        }
    }
}
