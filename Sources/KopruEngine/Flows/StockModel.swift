import Foundation
import KopruCore
import KopruStore

/// Job priorities of stock work: bulk (below zero) for syncs, real time for a change an
/// accepted order makes.
public enum StockPriority {
    public static let sync = -5
    public static let push = -10
    public static let sellable = 5
}

/// What a target last confirmed for one SKU: the sellable quantity sent, the on-hand level it was
/// computed from and when that level was read. Kept as `sent/onHand/readAtMs` in one snapshot
/// value per (target, SKU): about 20 bytes.
struct StockSnapshot: Hashable, Sendable {
    var sent: Int
    /// Nil for a value written before on-hand was kept.
    var onHand: Int?
    var readAt: Date?

    init(sent: Int, onHand: Int?, readAt: Date?) {
        self.sent = sent
        self.onHand = onHand
        self.readAt = readAt
    }

    init?(_ value: String?) {
        guard let value else { return nil }
        let parts = value.split(separator: "/")
        guard let sent = parts.first.flatMap({ Int($0) }) else { return nil }
        self.sent = sent
        onHand = parts.count > 1 ? Int(parts[1]) : nil
        readAt = parts.count > 2 ? Int64(parts[2]).map(Date.init(millisecondsSince1970:)) : nil
    }

    var value: String { "\(sent)/\(onHand.map(String.init) ?? "")/\(readAt?.millisecondsSince1970 ?? 0)" }

    /// Whether the target already holds `row` as at least as recent a reading.
    func covers(_ row: StockRow) -> Bool {
        guard sent == row.quantity, let readAt else { return false }
        return readAt >= row.readAt
    }
}

public struct StockRow: Codable, Hashable, Sendable {
    /// The SKU on the target.
    public var sku: String
    /// What is sent: sellable stock.
    public var quantity: Int
    public var onHand: Int
    public var readAt: Date

    public init(sku: String, quantity: Int, onHand: Int, readAt: Date) {
        self.sku = sku
        self.quantity = quantity
        self.onHand = onHand
        self.readAt = readAt
    }

    var level: StockLevel { StockLevel(sku: SKU(sku), quantity: quantity, observedAt: readAt) }

    var snapshot: StockSnapshot { StockSnapshot(sent: quantity, onHand: onHand, readAt: readAt) }
}

extension [StockRow] {
    /// A stable name for a chunk of rows (FNV-1a over SKU and quantity), so a sync re-run after a
    /// crash queues an identical chunk once.
    var fingerprint: String {
        // The bytes of "sku=quantity;" per row, hashed as they are read (no text built per row).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        for row in self {
            for byte in row.sku.utf8 { mix(byte) }
            mix(UInt8(ascii: "="))
            for byte in String(row.quantity).utf8 { mix(byte) }
            mix(UInt8(ascii: ";"))
        }
        return String(hash, radix: 16)
    }
}

/// Rows in a job payload, packed as one text of `sku<TAB>quantity<TAB>onHand<TAB>readAtMs` lines:
/// a 100 k-row sync puts every row through the queue two or three times, and one string costs
/// a fraction of 100 k keyed objects to encode and decode. `%`, tab and newline in a SKU are
/// percent-escaped.
enum PackedStockRows {
    static func pack(_ rows: [StockRow]) -> String {
        var text = ""
        text.reserveCapacity(rows.count * 32)
        for row in rows {
            text += escape(row.sku)
            text += "\t\(row.quantity)\t\(row.onHand)\t\(row.readAt.millisecondsSince1970)\n"
        }
        return text
    }

    /// Read byte by byte: splitting into substrings and converting each field cost a tenth of a
    /// million-SKU sync's CPU (every row is unpacked twice, by the push and the status check).
    static func unpack(_ text: String) throws -> [StockRow] {
        var text = text
        return try text.withUTF8 { bytes throws(DecodingError) -> [StockRow] in
            var rows: [StockRow] = []
            rows.reserveCapacity(bytes.count / 32)
            var index = 0
            func bad(_ start: Int) -> DecodingError {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                let line = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(end, start + 80)]), as: UTF8.self)
                return DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad packed stock row: \(line)"))
            }
            /// A whole number ending at a tab or the line's end (`last`), or nil.
            func number(_ index: inout Int, last: Bool) -> Int64? {
                var negative = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
                    negative = true
                    index += 1
                }
                var value: Int64 = 0
                var digits = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                    let (sum, carry) = times.addingReportingOverflow(Int64(bytes[index] - 0x30))
                    guard !overflow, !carry else { return nil }
                    value = sum
                    index += 1
                    digits += 1
                }
                guard digits > 0 else { return nil }
                if last {
                    guard index == bytes.count || bytes[index] == 0x0A else { return nil }
                } else {
                    guard index < bytes.count, bytes[index] == 0x09 else { return nil }
                }
                index += 1
                return negative ? -value : value
            }
            while index < bytes.count {
                let start = index
                if bytes[index] == 0x0A {
                    index += 1
                    continue
                }
                var escaped = false
                while index < bytes.count, bytes[index] != 0x09, bytes[index] != 0x0A {
                    if bytes[index] == UInt8(ascii: "%") { escaped = true }
                    index += 1
                }
                guard index < bytes.count, bytes[index] == 0x09 else { throw bad(start) }
                let skuBytes = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let quantity = number(&index, last: false), let onHand = number(&index, last: false),
                    let ms = number(&index, last: true), let quantityInt = Int(exactly: quantity), let onHandInt = Int(exactly: onHand)
                else { throw bad(start) }
                let raw = String(decoding: skuBytes, as: UTF8.self)
                rows.append(
                    StockRow(
                        sku: escaped ? unescape(Substring(raw)) : raw, quantity: quantityInt, onHand: onHandInt,
                        readAt: Date(millisecondsSince1970: ms)))
            }
            return rows
        }
    }

    private static func escape(_ sku: String) -> String {
        guard sku.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == 0x09 || $0 == 0x0A }) else { return sku }
        return sku.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\t", with: "%09")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    private static func unescape(_ field: Substring) -> String {
        guard field.utf8.contains(UInt8(ascii: "%")) else { return String(field) }
        return field.replacingOccurrences(of: "%09", with: "\t").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%25", with: "%")
    }
}
