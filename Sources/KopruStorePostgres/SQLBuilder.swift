import PostgresNIO

/// Builds a query whose shape depends on a filter, binding every value as a parameter.
struct SQLBuilder {
    private(set) var sql: String
    private var bindings = PostgresBindings()

    init(_ sql: String) { self.sql = sql }

    mutating func append(_ text: String) { sql += text }

    /// Appends `$n` for the value.
    mutating func bind(_ value: some PostgresThrowingDynamicTypeEncodable) throws {
        try bindings.append(value)
        sql += "$\(bindings.count)"
    }

    /// Appends ` AND <condition>` with the value bound where the condition ends, e.g.
    /// `and("kind =", kind)` or `and("status = ANY(", statuses, ")")`.
    mutating func and(_ condition: String, _ value: some PostgresThrowingDynamicTypeEncodable, _ suffix: String = "") throws {
        append(" AND \(condition) ")
        try bind(value)
        append(suffix)
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}
