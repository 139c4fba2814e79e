/// The store's orders by entity id, with the committed ones also kept in `(updated_at,
/// entity_id)` order, as MySQL's index on `updated_at` keeps them: a keyset page
/// (`updated_at >= …`) looks at the rows from there on, not at every order ever placed (a burst
/// of thousands of orders made each page of the simulator sort them all).
struct OrderTable {
    struct Key: Comparable {
        var updatedAt: String
        var entityID: Int

        init(_ order: MagentoSandbox.Order) {
            updatedAt = order.updatedAt
            entityID = order.entityID
        }

        static func < (a: Key, b: Key) -> Bool {
            a.updatedAt == b.updatedAt ? a.entityID < b.entityID : a.updatedAt < b.updatedAt
        }
    }

    private var byID: [Int: MagentoSandbox.Order] = [:]
    private var committedByUpdate: [Key] = []

    subscript(id: Int) -> MagentoSandbox.Order? {
        get { byID[id] }
        set {
            let old = byID[id].flatMap { $0.committed ? Key($0) : nil }
            let new = newValue.flatMap { $0.committed ? Key($0) : nil }
            byID[id] = newValue
            guard old != new else { return }
            if let old, let at = position(of: old) { committedByUpdate.remove(at: at) }
            if let new { committedByUpdate.insert(new, at: firstIndex(notBefore: new)) }
        }
    }

    var ids: Dictionary<Int, MagentoSandbox.Order>.Keys { byID.keys }

    /// Committed orders whose `updated_at` is at least `from` (all of them without one), in
    /// `(updated_at, entity_id)` order.
    func committed(updatedFrom from: String?) -> [MagentoSandbox.Order] {
        let start = from.map { firstIndex(notBefore: Key(updatedAt: $0, entityID: .min)) } ?? 0
        return committedByUpdate[start...].compactMap { byID[$0.entityID] }
    }

    private func firstIndex(notBefore key: Key) -> Int {
        var (low, high) = (0, committedByUpdate.count)
        while low < high {
            let middle = (low + high) / 2
            if committedByUpdate[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func position(of key: Key) -> Int? {
        let at = firstIndex(notBefore: key)
        return at < committedByUpdate.count && committedByUpdate[at] == key ? at : nil
    }
}

extension OrderTable.Key {
    init(updatedAt: String, entityID: Int) {
        self.updatedAt = updatedAt
        self.entityID = entityID
    }
}
