import Foundation
import KopruCore
import Testing

@Suite("Rate limits")
struct RateLimitTests {
    @Test func parsesWhatConfigurationsSay() {
        #expect(RateLimit(parsing: "80/min") == RateLimit(requests: 80, per: 60))
        #expect(RateLimit(parsing: "10/s burst 4") == RateLimit(requests: 10, per: 1, burst: 4))
        #expect(RateLimit(parsing: "25/0.5s")?.interval == 0.02)
        for bad in ["", "80", "80/fortnight", "0/s", "5/s burst", "5/s burst 0", "5/s twice"] {
            #expect(RateLimit(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func planningLeavesRoomForDriftAndLateArrivals() {
        let ozon = RateLimit(requests: 80, per: 60)
        #expect(abs(ozon.planned(share: 0.98, jitter: 0.05).interval - 0.75 / 0.98) < 1e-9, "a minute's window: the share decides")
        let fast = RateLimit(requests: 20, per: 1)
        #expect(abs(fast.planned(share: 0.98, jitter: 0.05).interval - 1.05 / 20) < 1e-9, "a short window: the jitter decides")
    }

    @Test func cellRateSpacesRequestsAndKeepsHeadroom() {
        let limit = RateLimit(requests: 10, per: 1, burst: 3)
        let t0 = Date(timeIntervalSince1970: 1_000)
        var arrival: Date?
        var starts: [TimeInterval] = []
        for _ in 0..<5 {
            let slot = CellRate.reserve(limit, arrival: arrival, now: t0)
            starts.append(slot.start.timeIntervalSince(t0))
            arrival = slot.arrival
        }
        #expect(starts.map { ($0 * 1000).rounded() } == [0, 0, 0, 100, 200], "a burst of 3, then one per 100 ms")
        let bulk = CellRate.reserve(limit, arrival: t0.addingTimeInterval(0.2), now: t0, headroom: 1)
        let realtime = CellRate.reserve(limit, arrival: t0.addingTimeInterval(0.2), now: t0)
        #expect(bulk.start.timeIntervalSince(t0) > 0.05 && realtime.start.timeIntervalSince(t0) < 1e-6, "bulk leaves a unit of the burst for real-time traffic")
        let paused = CellRate.pause(limit, arrival: nil, until: t0.addingTimeInterval(2))
        #expect(CellRate.reserve(limit, arrival: paused, now: t0).start >= t0.addingTimeInterval(2), "nothing before Retry-After")
    }
}
