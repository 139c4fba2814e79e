import Foundation
import HTTPTypes
import KopruCore

/// A group of a platform's endpoints that shares one rate limit ("stock writes", "everything").
public struct EndpointClass: Sendable {
    public var name: String
    /// Nil: the platform sets no limit we know of (a 429 still pauses the class).
    public var limit: RateLimit?
    let matches: @Sendable (HTTPRequest.Method, String) -> Bool

    public init(name: String, limit: RateLimit?, matches: @escaping @Sendable (HTTPRequest.Method, String) -> Bool) {
        self.name = name
        self.limit = limit
        self.matches = matches
    }
}

/// What a connector declares about its platform's rate limits: its endpoint classes, first match
/// wins, and a default class for the rest. The engine keeps one shared budget per
/// (connection, class) from this.
public struct EndpointLimits: Sendable {
    public var classes: [EndpointClass]
    public var fallback: EndpointClass

    public init(classes: [EndpointClass] = [], fallback: EndpointClass) {
        self.classes = classes
        self.fallback = fallback
    }

    public func classify(method: HTTPRequest.Method, path: String) -> EndpointClass {
        classes.first { $0.matches(method, path) } ?? fallback
    }

    /// Reads `rateLimit.<class>` settings over the declared defaults: `80/min`, `5/s burst 10`,
    /// or `off`.
    public func configured(_ settings: [String: String]) throws(ConnectorError) -> EndpointLimits {
        func apply(_ endpoint: EndpointClass) throws(ConnectorError) -> EndpointClass {
            let key = "rateLimit.\(endpoint.name)"
            guard let text = settings[key]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return endpoint }
            var copy = endpoint
            if text.lowercased() == "off" {
                copy.limit = nil
            } else if let limit = RateLimit(parsing: text) {
                copy.limit = limit
            } else {
                throw .permanent("must look like 80/min, 10/s, 2/s burst 4, or off; got \"\(text)\"", field: "settings.\(key)")
            }
            return copy
        }
        var result = EndpointLimits(fallback: try apply(fallback))
        for endpoint in classes { result.classes.append(try apply(endpoint)) }
        return result
    }

    /// The names a configuration may set.
    public var names: [String] { classes.map(\.name) + [fallback.name] }
}

/// A connector whose platform limits requests: the classes, and the most items one request may carry.
public protocol DeclaresEndpointLimits {
    static func endpointLimits(settings: [String: String]) throws(ConnectorError) -> EndpointLimits
}
