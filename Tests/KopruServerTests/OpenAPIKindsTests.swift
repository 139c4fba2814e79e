import Foundation
import HTTPTypes
import Hummingbird
import KopruApp
import HummingbirdTesting
import KopruConnectors
import KopruEngine
import KopruServer
import KopruStore
import NIOCore
import Testing

// What the served document's enums must repeat (the installed kinds), and where the test finds them.

/// The connector type ids the hub takes (`POST /api/integrations/{type}/config`), sorted.
private func expectedConnectorTypes() -> [String] { Installed.connectors.map(\.id).sorted() }

/// The flow kinds the hub runs, sorted.
private func expectedFlowKinds() -> [String] { Installed.flows.map(\.id).sorted() }

/// Every enum in the document that lists connector type ids: the schema of a parameter or
/// property named `type`, or any enum naming one of the expected ids.
private func documentedConnectorTypes(in document: Any) -> [DocumentedEnum] {
    DocumentedEnum.all(in: document).filter { $0.subject == "type" || $0.overlaps(expectedConnectorTypes()) }
}

/// Every enum in the document that lists flow kinds: the schema of a parameter or property named
/// `flow`, or any enum naming one of the expected kinds.
private func documentedFlowKinds(in document: Any) -> [DocumentedEnum] {
    DocumentedEnum.all(in: document).filter { $0.subject == "flow" || $0.overlaps(expectedFlowKinds()) }
}

/// One `enum` of string values in the document, with what it describes (the parameter's or the
/// property's name; `nil` for a named component schema or anything else) and where it is.
private struct DocumentedEnum: CustomStringConvertible {
    var subject: String?
    var pointer: String
    var values: [String]

    var description: String { "\(pointer) (\(subject ?? "-"))" }

    func overlaps(_ expected: [String]) -> Bool { !Set(values).isDisjoint(with: expected) }

    static func all(in document: Any) -> [DocumentedEnum] {
        var found: [DocumentedEnum] = []
        walk(document, pointer: "", subject: nil, into: &found)
        return found.sorted { $0.pointer < $1.pointer }
    }

    /// A parameter's `schema` describes the parameter; each entry of `properties` describes its
    /// property; `items` and the entries of `oneOf`/`anyOf`/`allOf` describe what their parent does.
    private static func walk(_ node: Any, pointer: String, subject: String?, into found: inout [DocumentedEnum]) {
        if let list = node as? [Any] {
            for (index, element) in list.enumerated() {
                walk(element, pointer: "\(pointer)/\(index)", subject: subject, into: &found)
            }
            return
        }
        guard let object = node as? [String: Any] else { return }
        if let values = object["enum"] as? [Any] {
            found.append(DocumentedEnum(subject: subject, pointer: pointer, values: values.map { "\($0)" }))
        }
        let parameterName = object["in"] is String ? object["name"] as? String : nil
        for (key, child) in object {
            let childPointer = "\(pointer)/\(key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))"
            switch key {
            case "schema" where parameterName != nil:
                walk(child, pointer: childPointer, subject: parameterName, into: &found)
            case "properties":
                for (name, schema) in child as? [String: Any] ?? [:] {
                    walk(schema, pointer: "\(childPointer)/\(name)", subject: name, into: &found)
                }
            case "items", "oneOf", "anyOf", "allOf":
                walk(child, pointer: childPointer, subject: subject, into: &found)
            default:
                walk(child, pointer: childPointer, subject: nil, into: &found)
            }
        }
    }
}

@Suite("OpenAPI document and the kinds")
struct OpenAPIKindsTests {
    /// The document as `GET /openapi.json` serves it, parsed.
    static func servedDocument() async throws -> [String: Any] {
        let app = Application(router: buildRouter(HubServerDependencies(store: MemoryStore(), kinds: Installed.kinds)))
        let (contentType, text) = try await app.test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            return (response.headers[.contentType], String(buffer: response.body))
        }
        #expect(contentType == "application/json; charset=utf-8")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("every enum of connector type ids lists exactly the connector types")
    func connectorTypes() async throws {
        let enums = documentedConnectorTypes(in: try await Self.servedDocument())
        #expect(!enums.isEmpty, "no enum of connector type ids in /openapi.json")
        for documented in enums {
            #expect(documented.values.sorted() == expectedConnectorTypes(), "\(documented)")
        }
    }

    @Test("every enum of flow kinds lists exactly the flow kinds")
    func flowKinds() async throws {
        let enums = documentedFlowKinds(in: try await Self.servedDocument())
        #expect(!enums.isEmpty, "no enum of flow kinds in /openapi.json")
        for documented in enums {
            #expect(documented.values.sorted() == expectedFlowKinds(), "\(documented)")
        }
    }

    /// docs/admin-api.md: every `/api/…` route but webhook intake needs a bearer token.
    @Test("every admin operation declares the bearer token")
    func adminOperationsNeedTheToken() async throws {
        let paths = try #require(try await Self.servedDocument()["paths"] as? [String: [String: Any]])
        var undeclared: [String] = []
        for (path, operations) in paths where path.hasPrefix("/api/") && !path.hasPrefix("/api/integrations/webhook/") {
            for (method, operation) in operations {
                let security = (operation as? [String: Any])?["security"] as? [[String: [String]]] ?? []
                if !security.contains(where: { $0["bearer"] != nil }) { undeclared.append("\(method.uppercased()) \(path)") }
            }
        }
        #expect(undeclared.sorted() == [])
    }
}
