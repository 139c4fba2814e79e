import Foundation
import KopruCore

/// Magento's `searchCriteria[...]` query, parsed and applied to rendered records, with Magento's
/// habits: filters in one group are OR-ed, groups are AND-ed, and a page past the end repeats
/// the last page.
struct SearchCriteria {
    struct Filter {
        var field: String
        var value: String
        var condition: String
    }

    var groups: [[Filter]] = []
    var sortOrders: [(field: String, ascending: Bool)] = []
    var pageSize: Int?
    var currentPage = 1

    static let conditions: Set<String> = ["eq", "neq", "gt", "gteq", "lt", "lteq", "in", "nin", "like", "nlike", "null", "notnull"]

    struct Problem: Error {
        let message: String
    }

    /// Reads `searchCriteria[filter_groups][g][filters][f][field|value|condition_type]`,
    /// `searchCriteria[sortOrders][i][field|direction]`, `[pageSize]` and `[currentPage]`.
    init(query: [(name: String, value: String)], allowedFields: Set<String>, maxPageSize: Int) throws(Problem) {
        var filters: [Int: [Int: [String: String]]] = [:]
        var sorts: [Int: [String: String]] = [:]
        for (name, value) in query where name.hasPrefix("searchCriteria[") {
            let parts = name.dropFirst("searchCriteria".count).split(separator: "]").map { String($0.dropFirst()) }
            switch parts.first {
            case "filter_groups":
                guard parts.count == 5, parts[2] == "filters", let group = Int(parts[1]), let index = Int(parts[3]) else {
                    throw Problem(message: "\(name) is not a valid search criteria parameter")
                }
                filters[group, default: [:]][index, default: [:]][parts[4]] = value
            case "sortOrders":
                guard parts.count == 3, let index = Int(parts[1]) else {
                    throw Problem(message: "\(name) is not a valid search criteria parameter")
                }
                sorts[index, default: [:]][parts[2]] = value
            case "pageSize":
                guard let size = Int(value), size > 0 else { throw Problem(message: "pageSize must be a positive number") }
                guard size <= maxPageSize else {
                    throw Problem(message: "Maximum SearchCriteria pageSize is \(maxPageSize)")
                }
                pageSize = size
            case "currentPage":
                guard let page = Int(value), page > 0 else { throw Problem(message: "currentPage must be a positive number") }
                currentPage = page
            default: throw Problem(message: "\(name) is not a valid search criteria parameter")
            }
        }
        for group in filters.keys.sorted() {
            var list: [Filter] = []
            for index in filters[group]!.keys.sorted() {
                let raw = filters[group]![index]!
                guard let field = raw["field"], allowedFields.contains(field) else {
                    throw Problem(message: "\"\(raw["field"] ?? "")\" is not a field that can be filtered on")
                }
                let condition = raw["condition_type"] ?? "eq"
                guard Self.conditions.contains(condition) else {
                    throw Problem(message: "Invalid condition type: \(condition)")
                }
                list.append(Filter(field: field, value: raw["value"] ?? "", condition: condition))
            }
            groups.append(list)
        }
        for index in sorts.keys.sorted() {
            guard let field = sorts[index]!["field"], allowedFields.contains(field) else {
                throw Problem(message: "\"\(sorts[index]!["field"] ?? "")\" is not a field that can be sorted on")
            }
            sortOrders.append((field, (sorts[index]!["direction"] ?? "ASC").uppercased() != "DESC"))
        }
    }

    /// A value every match's `field` is at least: groups are AND-ed, so a group that is one
    /// `gteq`, `gt` or `eq` filter on the field bounds every match. Nil when none does.
    func lowerBound(on field: String) -> String? {
        groups.compactMap { group in
            guard group.count == 1, let filter = group.first, filter.field == field, ["gteq", "gt", "eq"].contains(filter.condition)
            else { return nil }
            return filter.value
        }.max()
    }

    /// The page of matching records, and how many matched in all.
    func apply(to records: [[String: JSON]], defaultPageSize: Int) -> (items: [[String: JSON]], total: Int) {
        apply(to: records, field: { $0[$1] }, defaultPageSize: defaultPageSize)
    }

    /// The same over any records, `field` reading one field of one (no dictionary per row).
    /// Records already in `presortedBy` order (a table's index) are not sorted again when the
    /// sort orders ask for that order.
    func apply<Record>(
        to records: [Record], field: (Record, String) -> JSON?, presortedBy index: [String] = [], defaultPageSize: Int
    ) -> (items: [Record], total: Int) {
        let probes = groups.map { $0.map(Probe.init) }
        var matching = records.filter { record in
            probes.allSatisfy { group in group.contains { $0.matches(field(record, $0.filter.field)) } }
        }
        let ascendingBy = sortOrders.allSatisfy(\.ascending) ? sortOrders.map(\.field) : nil
        if !(ascendingBy.map { !$0.isEmpty && index.starts(with: $0) } ?? false) {
            matching.sort { a, b in
                for order in sortOrders {
                    let comparison = Self.compare(field(a, order.field), field(b, order.field))
                    if comparison != 0 { return order.ascending ? comparison < 0 : comparison > 0 }
                }
                // Without an order MySQL hands rows back by primary key.
                return Self.compare(field(a, "entity_id") ?? field(a, "id"), field(b, "entity_id") ?? field(b, "id")) < 0
            }
        }
        let size = pageSize ?? defaultPageSize
        let total = matching.count
        guard total > 0 else { return ([], 0) }
        // Magento clamps a page past the end to the last page instead of answering empty.
        let lastPage = (total + size - 1) / size
        let page = min(currentPage, lastPage)
        let start = (page - 1) * size
        return (Array(matching[start..<min(start + size, total)]), total)
    }

    /// A filter with its value read once, as a number and as text, not once per row.
    private struct Probe {
        let filter: Filter
        let number: JSON
        let text: JSON

        init(_ filter: Filter) {
            self.filter = filter
            number = .number(Decimal(exactly: filter.value) ?? 0)
            text = .string(filter.value)
        }

        func matches(_ value: JSON?) -> Bool {
            let probe: JSON = if case .number = value { number } else { text }
            return SearchCriteria.matches(filter, value, probe: probe)
        }
    }

    static func compare(_ a: JSON?, _ b: JSON?) -> Int {
        if let x = a?.decimal, let y = b?.decimal, case .number = a, case .number = b {
            return x < y ? -1 : x > y ? 1 : 0
        }
        let x = a?.string ?? ""
        let y = b?.string ?? ""
        return x < y ? -1 : x > y ? 1 : 0
    }

    static func matches(_ filter: Filter, _ value: JSON?, probe: JSON) -> Bool {
        let order = { compare(value, probe) }
        // Only `in` and `nin` need the list; split for every row of every page, it was the
        // simulator's largest cost.
        var list: [String] { filter.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        switch filter.condition {
        case "eq": return value != nil && order() == 0
        case "neq": return value == nil || order() != 0
        case "gt": return value != nil && order() > 0
        case "gteq": return value != nil && order() >= 0
        case "lt": return value != nil && order() < 0
        case "lteq": return value != nil && order() <= 0
        case "in": return list.contains(value?.string ?? "\u{0}")
        case "nin": return !list.contains(value?.string ?? "\u{0}")
        case "like", "nlike":
            let pattern = "^" + NSRegularExpression.escapedPattern(for: filter.value).replacingOccurrences(of: "%", with: ".*") + "$"
            let found = (value?.string).map { $0.range(of: pattern, options: .regularExpression) != nil } ?? false
            return filter.condition == "like" ? found : !found
        case "null": return value == nil || value == .null
        case "notnull": return value != nil && value != .null
        default: return false
        }
    }
}

/// Magento's `YYYY-MM-DD HH:MM:SS`, always UTC.
enum MagentoTime {
    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func isValid(_ text: String) -> Bool {
        text.range(of: #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"#, options: .regularExpression) != nil
    }
}
