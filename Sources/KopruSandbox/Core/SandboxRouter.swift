/// Routes of one simulated system: method + path pattern (`/rest/:store/V1/orders/:id`) → handler.
/// Every route has a name, which fault plans and the ledger use ("orders.create").
public struct SandboxRouter: Sendable {
    public typealias Handler = @Sendable (SandboxRequest) async -> SandboxResponse

    struct Route: Sendable {
        let name: String
        let method: String
        let segments: [Substring]
        let handler: Handler
    }

    private(set) var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, name: String, _ handler: @escaping Handler) {
        routes.append(
            Route(
                name: name, method: method.uppercased(), segments: pattern.split(separator: "/"), handler: handler))
    }

    /// The first route whose pattern matches, with its parameters. `pathExists` tells a wrong
    /// method (405) from an unknown path (404).
    func match(method: String, path: String) -> (route: Route, parameters: [String: String])? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for route in routes where route.method == method && route.segments.count == parts.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (pattern, part) in zip(route.segments, parts) {
                if pattern.hasPrefix(":") {
                    parameters[String(pattern.dropFirst())] = String(part)
                } else if pattern != part {
                    matched = false
                    break
                }
            }
            if matched { return (route, parameters) }
        }
        return nil
    }

    func pathExists(_ path: String) -> Bool {
        ["GET", "POST", "PUT", "DELETE", "PATCH"].contains { match(method: $0, path: path) != nil }
    }
}
