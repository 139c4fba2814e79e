import Foundation
import KopruStore
import Testing

@testable import KopruEngine

/// The names and texts a stock sync stores: they must stay the same across versions, or a run
/// resumed by a newer hub would queue a chunk the older one already queued.
@Suite struct StockModelTests {
    static let rows = [
        StockRow(sku: "SKU-000001", quantity: 12, onHand: 13, readAt: Date(millisecondsSince1970: 1_790_000_000_123)),
        StockRow(sku: "Çay\t%1", quantity: 0, onHand: -2, readAt: Date(millisecondsSince1970: 1_790_000_000_124)),
    ]

    @Test("a chunk's fingerprint is FNV-1a over \"sku=quantity;\" per row")
    func fingerprint() {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Self.rows.map({ "\($0.sku)=\($0.quantity);" }).joined().utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        #expect(Self.rows.fingerprint == String(hash, radix: 16))
        #expect([StockRow]().fingerprint == "cbf29ce484222325")
    }

    @Test("packed rows round-trip, tabs and percent signs in a SKU included")
    func packing() throws {
        #expect(try PackedStockRows.unpack(PackedStockRows.pack(Self.rows)) == Self.rows)
        #expect(try PackedStockRows.unpack("") == [])
        #expect(try PackedStockRows.unpack("A\t1\t2\t3") == [StockRow(sku: "A", quantity: 1, onHand: 2, readAt: Date(millisecondsSince1970: 3))])
        for bad in ["A\t1\t2\n", "A\tx\t2\t3\n", "A\t1\t2\t3\t4\n", "A 1 2 3\n", "A\t1\t\t3\n", "A\t-\t2\t3\n", "A\t99999999999999999999\t2\t3\n", "A\t1\t2\t9223372036854775808\n"] {
            #expect(throws: DecodingError.self, "\(bad.debugDescription)") { try PackedStockRows.unpack(bad) }
        }
    }

    @Test("a snapshot value reads back what was written, and older shorter values still read")
    func snapshotValue() {
        let snapshot = StockSnapshot(sent: 4, onHand: 5, readAt: Date(millisecondsSince1970: 1_790_000_000_000))
        #expect(StockSnapshot(snapshot.value) == snapshot)
        #expect(StockSnapshot("7") == StockSnapshot(sent: 7, onHand: nil, readAt: nil))
        #expect(StockSnapshot("x/1/2") == nil)
        #expect(StockSnapshot(nil) == nil)
    }
}
